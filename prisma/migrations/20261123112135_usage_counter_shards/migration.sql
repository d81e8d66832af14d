-- AlterTable
ALTER TABLE "UsageCounter" DROP CONSTRAINT "UsageCounter_pkey",
ADD COLUMN     "shard" INTEGER NOT NULL DEFAULT 0,
ADD CONSTRAINT "UsageCounter_pkey" PRIMARY KEY ("workspaceId", "month", "shard");
