// A database that cannot serve a call in time (every pooled connection busy)
// answers SERVICE_UNAVAILABLE with HTTP 503 and Retry-After, never
// INTERNAL_SERVER_ERROR, and changes nothing: the same call succeeds once the
// pool frees up. The pool is held for real, on PostgreSQL.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ALL_BACKENDS, describeEachBackend } from '../support/backends.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { seedOrganization, seedWorkspace } from '../support/fixtures.js';

const UPDATE = 'mutation($input: UpdateWorkspaceInput!) { updateWorkspace(input: $input) { __typename ... on Workspace { name configVersion } } }';

describeEachBackend(
  'a busy database',
  (backend) => {
    let t: TestApp;
    let token: string;
    let workspaceId: string;
    /** Called with each statement the app runs; set by a test. */
    let onStatement: ((sql: string) => void) | undefined;

    beforeAll(async () => {
      // One connection: whoever holds it holds the pool. Exposed errors show which failure was met.
      t = await startTestApp(backend, { env: { DATABASE_POOL_SIZE: '1', DATABASE_TRANSACTION_WAIT_MS: '2000', HEDDLE_EXPOSE_ERRORS: 'true' }, onQuery: (e) => onStatement?.(e.query) });
      token = await t.memberToken('busy@example.com');
      workspaceId = await seedWorkspace(t, token, await seedOrganization(t, token, 'busy'), 'busy');
    });
    afterAll(() => t.stop());

    const post = async (query: string, variables: Record<string, unknown>) => {
      const response = await fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Record<string, any> };
    };
    const workspace = () => t.app.database.prisma.workspace.findFirstOrThrow({ select: { name: true, configVersion: true } });

    test('a transaction that cannot start in time (Prisma P2028): 503 SERVICE_UNAVAILABLE, nothing written, the retry succeeds', async () => {
      // The statements updateWorkspace runs before its transaction: reads, up to the first write.
      const statements: string[] = [];
      onStatement = (sql) => statements.push(sql);
      expect((await post(UPDATE, { input: { id: workspaceId, name: 'first' } })).body.data.updateWorkspace.__typename).toBe('Workspace');
      const beforeTransaction = statements.findIndex((sql) => /^\s*(UPDATE|INSERT|DELETE)/.test(sql));
      expect(beforeTransaction).toBeGreaterThan(0);

      // The same call again; right after its last read, the test takes the only connection.
      const before = await workspace();
      let seen = 0;
      let held: Promise<{ release(): Promise<void> }> | undefined;
      onStatement = () => {
        if (++seen === beforeTransaction) held = t.app.database.session();
      };
      const busy = await post(UPDATE, { input: { id: workspaceId, name: 'second' } });
      onStatement = undefined;
      await (await held!).release();

      expect(busy.status).toBe(503);
      expect(busy.retryAfter).toBe('1');
      expect(busy.body.errors).toEqual([
        expect.objectContaining({
          message: 'The service is busy and changed nothing: retry shortly.',
          extensions: { code: 'SERVICE_UNAVAILABLE', originalError: { message: expect.stringMatching(/Unable to start a transaction in the given time/) } },
        }),
      ]);
      expect(await workspace()).toEqual(before);

      const retried = await post(UPDATE, { input: { id: workspaceId, name: 'second' } });
      expect(retried.body.data.updateWorkspace).toEqual({ __typename: 'Workspace', name: 'second', configVersion: before.configVersion + 1 });
    });

    test('a statement that gets no connection within the pool timeout: 503 SERVICE_UNAVAILABLE', async () => {
      const held = await t.app.database.session();
      const busy = await post('query($id: ID!) { workspace(id: $id) { name } }', { id: workspaceId }).finally(() => held.release());
      expect(busy.status).toBe(503);
      expect(busy.body.errors).toEqual([
        expect.objectContaining({ extensions: { code: 'SERVICE_UNAVAILABLE', originalError: { message: 'timeout exceeded when trying to connect' } } }),
      ]);
    });
  },
  ALL_BACKENDS.filter((backend) => backend.database === 'postgres' && backend.pubsub === 'memory'),
);
