// Layers only point down: app → schema → modules → auth → platform
// (docs/architecture.md). test/architecture/layers.test.ts checks it in
// `npm test`; `npm run lint:deps` prints the same report.
const layer = (name, below) => ({
  name: `${name}-points-down`,
  comment: `src/${name} may import only ${below.length ? below.map((b) => `src/${b}`).join(', ') : 'nothing above it'} and the generated client`,
  severity: 'error',
  from: { path: `^src/${name}/` },
  to: { path: '^src/', pathNot: [`^src/${name}/`, '^src/generated/', ...below.map((b) => `^src/${b}/`)] },
});

module.exports = {
  forbidden: [
    layer('platform', []),
    layer('auth', ['platform']),
    layer('modules', ['auth', 'platform']),
    layer('schema', ['modules', 'auth', 'platform']),
    layer('app', ['schema', 'modules', 'auth', 'platform']),
    {
      name: 'no-circular',
      comment: 'import circles (type-only imports included) make a layer impossible to read on its own',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'entry-points-stay-on-top',
      comment: 'nothing imports the process entry points',
      severity: 'error',
      from: {},
      to: { path: '^src/(main|cli)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // TypeScript 7 has no compiler API for dependency-cruiser: swc parses the sources.
    parser: 'swc',
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
