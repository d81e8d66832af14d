// The table of environment variables in docs/operations.md and README.md,
// rendered from envSchema's meta (src/platform/config.ts): one source, so the
// docs cannot drift from what Heddle reads (test/config.test.ts checks).
import { envSchema } from '../src/platform/config.js';

export const TABLE_BEGIN = '<!-- environment:begin (generated from envSchema in src/platform/config.ts by `npm run docs:operations`; edit there) -->';
export const TABLE_END = '<!-- environment:end -->';
/** The files that carry the table between the markers. */
export const DOCUMENTS = ['docs/operations.md', 'README.md'];

export interface VariableDoc {
  name: string;
  shownDefault: string;
  description: string;
}

/** Each variable envSchema reads, in the schema's order, with its documented default and meaning. */
export function documentedVariables(): VariableDoc[] {
  return Object.entries(envSchema.shape).map(([name, schema]) => {
    const meta = schema.meta() as { shownDefault?: unknown; description?: unknown } | undefined;
    if (typeof meta?.shownDefault !== 'string' || typeof meta.description !== 'string') {
      throw new Error(`${name} has no .meta({ shownDefault, description }) in envSchema (src/platform/config.ts)`);
    }
    return { name, shownDefault: meta.shownDefault, description: meta.description };
  });
}

export function renderEnvironmentTable(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = documentedVariables().map((v) => `| \`${v.name}\` | ${cell(v.shownDefault)} | ${cell(v.description)} |`);
  return [TABLE_BEGIN, '', '| variable | default | meaning |', '|---|---|---|', ...rows, '', TABLE_END].join('\n');
}

/** `document` with the generated table in place of whatever stands between the markers. */
export function withEnvironmentTable(document: string, path: string): string {
  const begin = document.indexOf(TABLE_BEGIN);
  const end = document.indexOf(TABLE_END);
  if (begin < 0 || end < begin) throw new Error(`${path} has no environment table markers`);
  return document.slice(0, begin) + renderEnvironmentTable() + document.slice(end + TABLE_END.length);
}
