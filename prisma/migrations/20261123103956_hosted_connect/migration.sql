-- CreateEnum
CREATE TYPE "ConnectSessionStatus" AS ENUM ('PENDING', 'SUCCEEDED', 'FAILED');

-- AlterTable
ALTER TABLE "Connection" ADD COLUMN     "oauthAppId" UUID;

-- AlterTable
ALTER TABLE "Workspace" ADD COLUMN     "allowedRedirectOrigins" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "connectFrameAncestors" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- CreateTable
CREATE TABLE "OAuthApp" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "integrationName" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "scopes" JSONB,
    "authorizationUrl" TEXT,
    "tokenUrl" TEXT,
    "secretCiphertext" BYTEA NOT NULL,
    "wrappedDataKey" BYTEA NOT NULL,
    "keyVersion" INTEGER NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "OAuthApp_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ConnectSession" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "workspaceId" UUID NOT NULL,
    "workspaceIntegrationId" UUID NOT NULL,
    "integration" TEXT NOT NULL,
    "integrationName" TEXT NOT NULL,
    "authType" "ConnectionType" NOT NULL,
    "externalId" TEXT NOT NULL,
    "redirectUrl" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "status" "ConnectSessionStatus" NOT NULL DEFAULT 'PENDING',
    "errorCode" TEXT,
    "browserHash" TEXT,
    "stateHash" TEXT,
    "stateExpiresAt" TIMESTAMPTZ(3),
    "stateUsedAt" TIMESTAMPTZ(3),
    "secretCiphertext" BYTEA,
    "wrappedDataKey" BYTEA,
    "keyVersion" INTEGER,
    "connectionId" UUID,
    "endUserId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ConnectSession_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "OAuthApp_organizationId_integrationName_key" ON "OAuthApp"("organizationId", "integrationName");

-- CreateIndex
CREATE UNIQUE INDEX "ConnectSession_tokenHash_key" ON "ConnectSession"("tokenHash");

-- CreateIndex
CREATE UNIQUE INDEX "ConnectSession_stateHash_key" ON "ConnectSession"("stateHash");

-- CreateIndex
CREATE INDEX "ConnectSession_workspaceId_expiresAt_idx" ON "ConnectSession"("workspaceId", "expiresAt");

-- CreateIndex
CREATE INDEX "ConnectSession_organizationId_idx" ON "ConnectSession"("organizationId");

-- CreateIndex
CREATE INDEX "ConnectSession_workspaceIntegrationId_idx" ON "ConnectSession"("workspaceIntegrationId");

-- CreateIndex
CREATE INDEX "ConnectSession_connectionId_idx" ON "ConnectSession"("connectionId");

-- CreateIndex
CREATE INDEX "ConnectSession_endUserId_idx" ON "ConnectSession"("endUserId");

-- CreateIndex
CREATE INDEX "Connection_oauthAppId_idx" ON "Connection"("oauthAppId");

-- AddForeignKey
ALTER TABLE "Connection" ADD CONSTRAINT "Connection_oauthAppId_fkey" FOREIGN KEY ("oauthAppId") REFERENCES "OAuthApp"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OAuthApp" ADD CONSTRAINT "OAuthApp_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConnectSession" ADD CONSTRAINT "ConnectSession_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConnectSession" ADD CONSTRAINT "ConnectSession_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConnectSession" ADD CONSTRAINT "ConnectSession_workspaceIntegrationId_fkey" FOREIGN KEY ("workspaceIntegrationId") REFERENCES "WorkspaceIntegration"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConnectSession" ADD CONSTRAINT "ConnectSession_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConnectSession" ADD CONSTRAINT "ConnectSession_endUserId_fkey" FOREIGN KEY ("endUserId") REFERENCES "EndUser"("id") ON DELETE SET NULL ON UPDATE CASCADE;
