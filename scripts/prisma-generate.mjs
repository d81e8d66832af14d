// Generates the Prisma client and the Pothos types, also with no network access.
// `prisma generate` only needs the native schema engine's path to exist (it
// generates through bundled WASM), so when the engine was never downloaded we
// point PRISMA_SCHEMA_ENGINE_BINARY at a placeholder. Online installs are untouched.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const enginesDir = fileURLToPath(new URL('../node_modules/@prisma/engines/', import.meta.url));
const hasNativeEngine =
  existsSync(enginesDir) && readdirSync(enginesDir).some((f) => f.startsWith('schema-engine'));
const env = { ...process.env };
if (!hasNativeEngine && !env.PRISMA_SCHEMA_ENGINE_BINARY) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = fileURLToPath(import.meta.url);
}
const result = spawnSync('prisma', ['generate'], { stdio: 'inherit', env, shell: process.platform === 'win32' });
process.exit(result.status ?? 1);
