// `npm run check-engines`: every installed package accepts the first release of
// each Node line that package.json's `engines` promises (so an install on any
// supported line prints no EBADENGINE), and the runtime the project brings
// (the `node` dev dependency) is one of those lines.
import { readFileSync } from 'node:fs';
import semver from 'semver';

interface LockedPackage {
  version?: string;
  engines?: { node?: string } | string[];
  optional?: boolean;
}

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockedPackage> };

const supported = manifest.engines.node;
const lines = supported.split('||').map((range) => semver.minVersion(range.trim())!.version);
const problems = new Set<string>();

const runtime = manifest.devDependencies.node;
if (!runtime || !semver.satisfies(runtime, supported)) {
  problems.add(`the project's own runtime (devDependencies.node ${runtime ?? 'missing'}) is outside engines.node ${supported}`);
}

for (const [path, entry] of Object.entries(lock.packages)) {
  // The root is this project; optional packages that do not fit are skipped by npm without a warning.
  if (path === '' || entry.optional) continue;
  const wanted = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
  if (!wanted) continue;
  for (const line of lines) {
    if (!semver.satisfies(line, wanted, { includePrerelease: true })) {
      problems.add(`${path.replace(/^.*node_modules\//, '')}@${entry.version} wants node ${wanted}: Node ${line} (engines.node ${supported}) would warn EBADENGINE`);
    }
  }
}

if (problems.size) {
  for (const problem of problems) process.stderr.write(`check-engines: ${problem}\n`);
  process.exit(1);
}
process.stdout.write(`check-engines: every locked package accepts Node ${lines.join(' and ')}; the project runs on ${runtime}\n`);
