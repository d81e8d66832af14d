-- DropForeignKey
ALTER TABLE "WorkspaceIntegration" DROP CONSTRAINT "WorkspaceIntegration_connectionId_fkey";

-- AddForeignKey
ALTER TABLE "WorkspaceIntegration" ADD CONSTRAINT "WorkspaceIntegration_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE NO ACTION ON UPDATE CASCADE;
