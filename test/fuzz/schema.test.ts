// Schema-driven fuzzing (issue #23): every root query and mutation field gets
// generated arguments (test/support/fuzz.ts) over HTTP, as a member (OWNER),
// an API key, an end user and anonymously. Whatever the input:
// - no answer is a 5xx, "Unexpected error.", an internal message or a stack;
// - every error carries a code Heddle documents (ERROR_CODES, REQUEST_ERROR_CODES);
// - a mutation that fails (a top-level error or an Error member of its result)
//   and every query leave the database as it was: each table's row count and
//   checksum (only FAILURE and DENIED audit entries may be added).
// The budget is small under `npm test`; `npm run fuzz` runs longer
// (HEDDLE_FUZZ_RUNS runs per field; HEDDLE_FUZZ_DATABASE=pglite for the
// embedded database). A failure prints its seed; replay it with
// HEDDLE_FUZZ_SEED=<seed> npm run fuzz -- -t '<field>'.
import fc from 'fast-check';
import type { GraphQLField } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ERROR_CODES, REQUEST_ERROR_CODES } from '../../src/platform/errors.js';
import { decodeId, encodeGlobalID } from '../../src/platform/ids.js';
import { schema } from '../../src/schema/index.js';
import { ALL_BACKENDS, unavailable } from '../support/backends.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { seedApiKey, seedConnection, seedEndUser, seedIntegration, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { argumentsArbitrary, NODE_TYPES, requestBody, resolveRefs, selectionOf } from '../support/fuzz.js';

const RUNS = Number(process.env.HEDDLE_FUZZ_RUNS ?? 15);
const SEED = Number(process.env.HEDDLE_FUZZ_SEED ?? Date.now() % 2 ** 31);
const KNOWN_CODES = new Set<string>([...ERROR_CODES, ...REQUEST_ERROR_CODES].filter((code) => code !== 'INTERNAL_SERVER_ERROR'));
type PrincipalKind = 'member' | 'apiKey' | 'endUser' | 'anonymous';

// PostgreSQL when it runs here (what production uses), else the embedded PGlite; HEDDLE_FUZZ_DATABASE=pglite picks it.
const backend =
  ALL_BACKENDS.find((b) => b.database === (process.env.HEDDLE_FUZZ_DATABASE ?? 'postgres') && b.pubsub === 'memory' && !unavailable(b)) ??
  ALL_BACKENDS[0]!;

const fields = (kind: 'query' | 'mutation') =>
  Object.values((kind === 'query' ? schema.getQueryType() : schema.getMutationType())?.getFields() ?? {}).map((field) => ({ kind, field }));

interface World {
  n: number;
  organizationId: string;
  workspaceId: string;
  apiKeyId: string;
  endUserId: string;
  tokens: Record<PrincipalKind, string | undefined>;
}

let t: TestApp;
let world: World;
let tables: string[];

async function call(query: string, variables: Record<string, unknown>, token: string | undefined): Promise<Record<string, any>> {
  const result = await t.requestRaw<Record<string, any>>(query, variables, token);
  if (result.errors?.length) throw new Error(`${query}: ${JSON.stringify(result.errors)}`);
  return result.data!;
}

/** An organization with one row of every kind, and a token for each principal kind. */
async function seedWorld(n: number): Promise<World> {
  const owner = await t.memberToken(`fuzz-owner@example.com`);
  const organizationId = await seedOrganization(t, owner, `fuzz-${n}`);
  const workspaceId = await seedWorkspace(t, owner, organizationId, 'main');
  const apiKey = await seedApiKey(t, owner, { organizationId, permissions: ['CREDENTIALS_READ'] });
  const connection = await seedConnection(t, owner, { scope: 'WORKSPACE', workspaceId, integrationName: 'slack' });
  await seedIntegration(t, owner, { workspaceId, integrationName: 'slack', alias: 'slack', connectionStrategy: 'FIXED', connectionId: connection });
  await seedIntegration(t, owner, { workspaceId, integrationName: 'github', alias: 'github', connectionStrategy: 'PER_USER' });
  const endUser = await seedEndUser(t, owner, { workspaceId, externalId: 'fuzz-user', directory: 'team' });
  const make = (name: string, inputType: string, input: Record<string, unknown>, selection = '__typename') =>
    call(`mutation($input: ${inputType}!) { r: ${name}(input: $input) { ${selection} } }`, { input }, owner);
  await make('createSpace', 'CreateSpaceInput', { workspaceId, uid: 'space' });
  await make('createTrigger', 'CreateTriggerInput', { workspaceId, integrationName: 'slack', eventName: 'new_message', callbackUrl: 'https://hooks.example.com/x' });
  await make('createMcpServer', 'CreateMcpServerInput', { workspaceId, name: 'agents' });
  await make('setOAuthApp', 'SetOAuthAppInput', { organizationId, integrationName: 'github', clientId: 'fuzz-client', clientSecret: 'fuzz-secret' });
  await make('inviteMember', 'InviteMemberInput', { organizationId, email: `invitee-${n}@example.com`, role: 'MEMBER' });
  await make('updateWorkspace', 'UpdateWorkspaceInput', { id: workspaceId, allowedRedirectOrigins: ['https://app.example.com'] });
  await make('createConnectSession', 'CreateConnectSessionInput', {
    workspaceId, externalId: 'fuzz-user', integration: 'github', redirectUrl: 'https://app.example.com/done',
  }).catch(() => null);
  const issued = await call(
    'mutation($input: IssueEndUserTokenInput!) { r: issueEndUserToken(input: $input) { ... on EndUserToken { token } } }',
    { input: { workspaceId, externalId: 'fuzz-user', expiresIn: 86_400 } },
    apiKey,
  );
  return {
    n,
    organizationId: decodeId(organizationId, 'Organization')!,
    workspaceId: decodeId(workspaceId, 'Workspace')!,
    apiKeyId: (await t.app.database.prisma.apiKey.findFirstOrThrow({ where: { organizationId: decodeId(organizationId, 'Organization')! } })).id,
    endUserId: decodeId(endUser.id, 'EndUser')!,
    tokens: { member: owner, apiKey, endUser: issued.r.token as string, anonymous: undefined },
  };
}

/** A new world when a run deleted the organization, its workspace or end user, revoked the key or moved ownership. */
async function ensureWorld(): Promise<void> {
  const [row] = await t.app.database.prisma.$queryRaw<{ intact: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM "Workspace" WHERE "id" = ${world.workspaceId}::uuid)
       AND EXISTS (SELECT 1 FROM "EndUser" WHERE "id" = ${world.endUserId}::uuid)
       AND EXISTS (SELECT 1 FROM "ApiKey" WHERE "id" = ${world.apiKeyId}::uuid AND "revokedAt" IS NULL)
       AND EXISTS (SELECT 1 FROM "Member" m JOIN "User" u ON u."id" = m."userId"
                    WHERE m."organizationId" = ${world.organizationId}::uuid AND m."role" = 'OWNER' AND u."email" = 'fuzz-owner@example.com') AS intact`;
  if (!row?.intact) world = await seedWorld(world.n + 1);
}

/** Ids of up to 8 rows of each Node type, newest first, as global ids. */
async function rowIds(): Promise<Record<string, string[]>> {
  const rows = await t.app.database.prisma.$queryRawUnsafe<{ type: string; id: string }[]>(
    NODE_TYPES.map((type) => `(SELECT '${type}' AS type, "id"::text AS id FROM "${type}" ORDER BY "id" DESC LIMIT 8)`).join(' UNION ALL '),
  );
  const ids: Record<string, string[]> = {};
  for (const { type, id } of rows) (ids[type] ??= []).push(encodeGlobalID(type, id));
  return ids;
}

/**
 * Each table's row count and checksum in one statement (one snapshot), leaving
 * out what changes by itself (an API key's lastUsedAt, an event's publishedAt)
 * and audit entries other than SUCCESS.
 */
async function checksums(): Promise<Record<string, string>> {
  const rows = await t.app.database.prisma.$queryRawUnsafe<{ t: string; n: number; sum: string }[]>(
    tables
      .map(
        (table) => `SELECT '${table}' AS t, count(*)::int AS n, md5(coalesce(string_agg(x, ',' ORDER BY x), '')) AS sum
          FROM (SELECT (to_jsonb(r) - '{lastUsedAt,publishedAt}'::text[])::text AS x FROM "${table}" r
                ${table === 'AuditEvent' ? `WHERE r."outcome"::text = 'SUCCESS'` : ''}) s`,
      )
      .join(' UNION ALL '),
  );
  return Object.fromEntries(rows.map((row) => [row.t, `${row.n}:${row.sum}`]));
}

/** The document for a root field: its arguments as variables, a selection of every leaf of its result. */
function documentOf(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
  const variables = field.args.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ');
  const args = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  return `${kind} Fuzz${variables ? `(${variables})` : ''} { r: ${field.name}${args ? `(${args})` : ''} ${selectionOf(schema, field.type)} }`;
}

interface Answer {
  status: number;
  text: string;
  body?: { data?: Record<string, any> | null; errors?: { message: string; extensions?: { code?: unknown } }[] };
}

async function send(document: string, variables: Record<string, unknown>, token: string | undefined): Promise<Answer> {
  const body = requestBody(document, variables);
  const response = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  }).catch((error: Error) => {
    // Past the body limit the server answers 413 and may close the connection before the client has sent it all.
    if (Buffer.byteLength(body) > t.app.config.limits.maxBodyBytes) return new Response(null, { status: 413 });
    throw error;
  });
  const text = await response.text();
  try {
    return { status: response.status, text, body: JSON.parse(text) as Answer['body'] };
  } catch {
    return { status: response.status, text };
  }
}

/** What must hold of any answer, whatever the input. */
function expectWellFormed(answer: Answer): void {
  expect(answer.status, answer.text.slice(0, 2000)).toBeLessThan(500);
  // 413: a body past HEDDLE_MAX_BODY_BYTES, refused before it is read (the connection may close first).
  if (answer.status === 413 && !answer.text) return;
  expect(answer.body, answer.text.slice(0, 2000)).toBeDefined();
  expect(answer.text).not.toMatch(/Unexpected error|\bstack\b|originalError|prisma|\n\s+at |PrismaClient|Invalid `/i);
  for (const error of answer.body!.errors ?? []) {
    expect(KNOWN_CODES.has(String(error.extensions?.code)), JSON.stringify(error).slice(0, 2000)).toBe(true);
  }
  const result = answer.body!.data?.r;
  // A member of a result union that implements Error carries one of ErrorCode's values.
  if (result && typeof result === 'object' && 'code' in result && 'message' in result) {
    expect(ERROR_CODES as readonly string[]).toContain(result.code);
  }
}

/** How each field answered (HEDDLE_FUZZ_STATS=1 prints it): a success, a result error's code, a request error's code. */
const outcomes = new Map<string, Map<string, number>>();
function record(field: string, answer: Answer): void {
  const result = answer.body?.data?.r;
  const outcome =
    answer.body?.errors?.[0]?.extensions?.code ??
    (result && typeof result === 'object' && 'code' in result ? `${result.__typename}` : answer.status === 200 ? 'ok' : `HTTP ${answer.status}`);
  const counts = outcomes.get(field) ?? new Map<string, number>();
  outcomes.set(field, counts.set(String(outcome), (counts.get(String(outcome)) ?? 0) + 1));
}

/** Whether a mutation's answer says it failed: a top-level error, or an Error member of its result union. */
function failed(answer: Answer): boolean {
  if (answer.status !== 200 || answer.body?.errors?.length) return true;
  const result = answer.body?.data?.r;
  return Boolean(result && typeof result === 'object' && 'code' in result && 'message' in result);
}

beforeAll(async () => {
  t = await startTestApp(backend, { env: { HEDDLE_EXPOSE_ERRORS: 'false' } });
  tables = (
    await t.app.database.prisma.$queryRaw<{ table_name: string }[]>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`
  ).map((row) => row.table_name);
  world = await seedWorld(0);
}, 120_000);
afterAll(async () => {
  if (process.env.HEDDLE_FUZZ_STATS) {
    for (const [field, counts] of outcomes) console.log(field.padEnd(28), [...counts].map(([k, n]) => `${k} ${n}`).join(', '));
  }
  await t?.stop();
});

describe(`schema fuzzing [${backend.name}] (seed ${SEED}, ${RUNS} runs per field)`, () => {
  const all = [...fields('query'), ...fields('mutation')];
  test.each(all.map(({ kind, field }, index) => ({ name: `${kind} ${field.name}`, kind, field, index })))(
    '$name',
    async ({ kind, field, index }) => {
      const document = documentOf(kind, field);
      // Weighted towards the principals that get past authorization.
      const principals = fc.oneof(
        { weight: 3, arbitrary: fc.constant('member' as const) },
        { weight: 3, arbitrary: fc.constant('apiKey' as const) },
        { weight: 2, arbitrary: fc.constant('endUser' as const) },
        { weight: 1, arbitrary: fc.constant('anonymous' as const) },
      );
      const property = fc.asyncProperty(principals, argumentsArbitrary(field), async (principal: PrincipalKind, generated) => {
        await ensureWorld();
        const variables = resolveRefs(generated, await rowIds()) as Record<string, unknown>;
        const before = await checksums();
        const answer = await send(document, variables, world.tokens[principal]);
        record(field.name, answer);
        expectWellFormed(answer);
        if (kind === 'query' || failed(answer)) expect(await checksums()).toEqual(before);
      });
      const seed = SEED + index;
      try {
        await fc.assert(property, { seed, numRuns: RUNS, endOnFailure: !process.env.HEDDLE_FUZZ_SHRINK });
      } catch (error) {
        console.error(`fuzz ${kind} ${field.name} failed: seed ${seed}; replay: HEDDLE_FUZZ_SEED=${SEED} npm run fuzz -- -t '${kind} ${field.name}'`);
        throw error;
      }
    },
    600_000,
  );
});
