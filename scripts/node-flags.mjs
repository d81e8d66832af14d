// The V8 flags the server and the operator commands run with. scripts/start.mjs
// re-executes itself with them (same process, so npm and signals see no
// difference); the bench starts Heddle with the same ones. Measured in
// BENCHMARKS.md ("Production start"):
//
// --liftoff-only: WebAssembly (PGlite's Postgres, Prisma's query compiler)
//   stays on V8's baseline compiler. Optimizing PGlite's Postgres took about
//   450 MB more at every start and left about 75 MB of it behind.
// --max-semi-space-size=16, on the embedded database only: under load V8 grows
//   the young generation to 128 MB and keeps it. Held at 32 MB, the embedded
//   server keeps about 85 MB less and serves as many requests; on PostgreSQL
//   the larger young generation served about 8 % more nested reads, so there
//   V8 decides.
//
// A flag the operator already gives, in NODE_OPTIONS or on node's command line
// (`execArgv`), is theirs: it is not added.
const named = (flag) => flag.split('=')[0];

export function nodeFlags(env, execArgv = []) {
  const embedded = !env.DATABASE_URL?.trim();
  const flags = ['--liftoff-only', ...(embedded ? ['--max-semi-space-size=16'] : [])];
  const given = [...(env.NODE_OPTIONS ?? '').split(/\s+/), ...execArgv].map(named);
  return flags.filter((flag) => !given.includes(named(flag)));
}
