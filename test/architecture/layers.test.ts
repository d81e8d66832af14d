// Layers only point down (issue #19): app → schema → modules → auth →
// platform, no import circles, nothing imports the entry points. The rules
// live in .dependency-cruiser.cjs (`npm run lint:deps` prints the same).
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { createRequire } from 'node:module';
import { expect, test } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const rules = createRequire(import.meta.url)(`${ROOT}.dependency-cruiser.cjs`);

async function violations(root: string, files: string[]): Promise<string[]> {
  const previous = process.cwd();
  process.chdir(root);
  try {
    const { output } = await cruise(files, { validate: true, ruleSet: rules, ...rules.options });
    return (output as ICruiseResult).summary.violations.map((v) =>
      `${v.rule.name}: ${[v.from, ...(v.cycle?.map((c) => c.name) ?? [v.to])].join(' → ')}`,
    );
  } finally {
    process.chdir(previous);
  }
}

test('no import points up a layer, closes a circle or reaches an entry point', { timeout: 60_000 }, async () => {
  expect(await violations(ROOT, ['src'])).toEqual([]);
});

test('an upward import is reported (a fixture tree whose platform imports a module)', { timeout: 60_000 }, async () => {
  expect(await violations(`${ROOT}test/architecture/upward/`, ['src'])).toEqual([
    'platform-points-down: src/platform/low.ts → src/modules/demo/demo.service.ts',
  ]);
});
