-- AlterTable
ALTER TABLE "McpServer" ADD COLUMN     "connectRedirectUrl" TEXT;
