// Compiles src/ into dist/ (tsconfig.build.json) when dist/ is missing or older
// than a source: a fresh clone, a pull, an edit. `npm start`, `npm run heddle`
// and the test suite's process tests call it; `npm run build` (--force) always compiles.
// Plain JavaScript, so that it runs before anything is compiled.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = path.join(ROOT, 'dist');
/** Its mtime is when the build that wrote dist/ started. */
const STAMP = path.join(DIST, '.build-stamp');
/** What the build reads (src/generated included); a directory's own mtime changes when an entry is added or removed. */
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json'].map((entry) => path.join(ROOT, entry));

function newestMtime(entry) {
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(entry).reduce((newest, name) => Math.max(newest, newestMtime(path.join(entry, name))), stat.mtimeMs);
}

/** Why dist/ must be rebuilt, or null when it is up to date. */
export function staleReason() {
  let built;
  try {
    built = statSync(STAMP).mtimeMs;
  } catch {
    return 'dist/ has not been built';
  }
  return INPUTS.some((input) => newestMtime(input) > built) ? 'a source changed since dist/ was built' : null;
}

export function ensureBuilt({ force = false } = {}) {
  const reason = force ? null : staleReason();
  if (!force && !reason) return;
  if (reason) process.stderr.write(`heddle: ${reason}; compiling (npm run build)\n`);
  const startedAt = new Date();
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  // stdout stays the server's: compiler output goes to stderr.
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  mkdirSync(DIST, { recursive: true });
  writeFileSync(STAMP, `${startedAt.toISOString()}\n`);
  // A source saved while the compiler ran is newer than this, so the next start compiles again.
  utimesSync(STAMP, startedAt, startedAt);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) ensureBuilt({ force: process.argv.includes('--force') });
