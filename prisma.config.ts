// Prisma CLI configuration. Heddle applies migrations itself (src/platform/db/migrate.ts),
// so the CLI is only used to generate the client and the Pothos types.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost/heddle' },
});
