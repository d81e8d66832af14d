// Baseline "raw": node:http + pg, the SQL written by hand, no GraphQL, no
// authentication. Its answers have the same JSON shape as Heddle's.
//   GET /workspaces/:globalId               W1
//   GET /organizations/:globalId/tree       W2 (one json_agg statement)
//   GET /resolve?workspaceId=&integration=&externalId=   W3
//   GET /execute?workspaceId=&integration=&channel=&text=  W7 (reads the credential, calls BENCH_PROVIDER_URL)
import { createServer, type ServerResponse } from 'node:http';
import { createCredentialStore, parseKeyRing } from '../../src/platform/crypto/credential-store.js';
import { executeByHand, globalId, openPool, organizationTreeJson, resolveByHand, rowId, workspaceById } from './by-hand.js';

const pool = openPool();
const store = process.env.HEDDLE_ENCRYPTION_KEYS ? createCredentialStore(parseKeyRing(process.env.HEDDLE_ENCRYPTION_KEYS)) : null;

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(body);
}

async function route(path: string, query: URLSearchParams): Promise<[number, string]> {
  const [, resource, id, sub] = path.split('/');
  if (resource === 'readyz') {
    await pool.query('SELECT 1');
    return [200, '{"status":"ok"}'];
  }
  if (resource === 'workspaces' && id && !sub) {
    const row = await workspaceById(pool, rowId(id));
    return [200, JSON.stringify({ data: { workspace: row && { id: globalId('Workspace', row.id), name: row.name, slug: row.slug } } })];
  }
  if (resource === 'organizations' && id && sub === 'tree') {
    // PostgreSQL wrote the JSON: it is passed through, never parsed.
    return [200, `{"data":${(await organizationTreeJson(pool, rowId(id))) ?? '{"organization":null}'}}`];
  }
  if (resource === 'resolve') {
    const resolution = await resolveByHand(pool, {
      workspaceId: rowId(query.get('workspaceId') ?? ''),
      integration: query.get('integration') ?? '',
      externalId: query.get('externalId'),
    });
    return [200, JSON.stringify({ data: { resolveConnection: { __typename: 'ConnectionResolution', ...resolution } } })];
  }
  if (resource === 'execute' && store) {
    const execution = await executeByHand(pool, store, process.env.BENCH_PROVIDER_URL ?? '', {
      workspaceId: rowId(query.get('workspaceId') ?? ''),
      integration: query.get('integration') ?? '',
      channel: query.get('channel') ?? '',
      text: query.get('text') ?? '',
    });
    return [200, JSON.stringify({ data: { executeAction: execution } })];
  }
  return [404, '{"error":"not found"}'];
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  route(url.pathname, url.searchParams).then(
    ([status, body]) => send(res, status, body),
    (error: Error) => send(res, 500, JSON.stringify({ error: error.message })),
  );
});
server.listen(Number(process.env.PORT), process.env.HOST);
process.on('SIGTERM', () => {
  server.close();
  void pool.end().then(() => process.exit(0));
});
