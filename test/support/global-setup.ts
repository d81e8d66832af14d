import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { probeServices, REQUIRE_SERVICES } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    services: { postgres: string | null; redis: string | null };
  }
}

export default async function setup(project: TestProject) {
  // The process tests run the compiled server, as `npm start` does: compile dist/ when it is missing or stale.
  execFileSync(process.execPath, [path.resolve(import.meta.dirname, '../../scripts/build-if-stale.mjs')], { stdio: 'inherit' });
  const services = await probeServices();
  const missing = Object.entries(services).filter(([, why]) => why !== null);
  for (const [name, why] of missing) {
    const line = `PostgreSQL/Redis backend "${name}" unavailable (${why})`;
    if (REQUIRE_SERVICES) throw new Error(`${line}; HEDDLE_TEST_REQUIRE_SERVICES=1 requires it`);
    console.warn(`\n[heddle tests] SKIPPING every ${name} run: ${line}. The embedded PGlite runs still ran.\n`);
  }
  project.provide('services', services);
}
