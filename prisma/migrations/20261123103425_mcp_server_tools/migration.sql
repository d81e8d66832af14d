-- AlterTable
ALTER TABLE "McpServer" ADD COLUMN     "tools" JSONB NOT NULL DEFAULT '[]';
