-- CreateEnum
CREATE TYPE "ExecutionStatus" AS ENUM ('PENDING', 'SUCCEEDED', 'FAILED');

-- CreateEnum
CREATE TYPE "ExecutionChannel" AS ENUM ('GRAPHQL', 'MCP');

-- AlterTable
ALTER TABLE "UsageCounter" ADD COLUMN     "executions" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "ActionExecution" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "workspaceId" UUID NOT NULL,
    "workspaceIntegrationId" UUID,
    "connectionId" UUID,
    "endUserId" UUID,
    "endUserExternalId" TEXT,
    "integrationName" TEXT NOT NULL,
    "alias" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "channel" "ExecutionChannel" NOT NULL,
    "status" "ExecutionStatus" NOT NULL,
    "input" JSONB NOT NULL,
    "output" JSONB,
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "providerStatus" INTEGER,
    "source" TEXT NOT NULL,
    "strategy" "ConnectionStrategy" NOT NULL,
    "explanation" TEXT[],
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "durationMs" INTEGER,
    "idempotencyKey" TEXT,
    "requestHash" TEXT,
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ActionExecution_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ActionExecution_workspaceId_id_idx" ON "ActionExecution"("workspaceId", "id" DESC);

-- CreateIndex
CREATE INDEX "ActionExecution_startedAt_idx" ON "ActionExecution"("startedAt");

-- CreateIndex
CREATE INDEX "ActionExecution_organizationId_idx" ON "ActionExecution"("organizationId");

-- CreateIndex
CREATE INDEX "ActionExecution_workspaceIntegrationId_idx" ON "ActionExecution"("workspaceIntegrationId");

-- CreateIndex
CREATE INDEX "ActionExecution_connectionId_idx" ON "ActionExecution"("connectionId");

-- CreateIndex
CREATE INDEX "ActionExecution_endUserId_idx" ON "ActionExecution"("endUserId");

-- CreateIndex
CREATE UNIQUE INDEX "ActionExecution_workspaceId_idempotencyKey_key" ON "ActionExecution"("workspaceId", "idempotencyKey");

-- AddForeignKey
ALTER TABLE "ActionExecution" ADD CONSTRAINT "ActionExecution_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ActionExecution" ADD CONSTRAINT "ActionExecution_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ActionExecution" ADD CONSTRAINT "ActionExecution_workspaceIntegrationId_fkey" FOREIGN KEY ("workspaceIntegrationId") REFERENCES "WorkspaceIntegration"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ActionExecution" ADD CONSTRAINT "ActionExecution_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ActionExecution" ADD CONSTRAINT "ActionExecution_endUserId_fkey" FOREIGN KEY ("endUserId") REFERENCES "EndUser"("id") ON DELETE SET NULL ON UPDATE CASCADE;
