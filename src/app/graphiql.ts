// GraphiQL for Heddle outside production: GET /graphql from a browser opens a small
// page on a Heddle example (the viewer and its organizations) with an Authorization
// placeholder in the Headers tab. The bundled GraphiQL (no CDN, about 9 MB) is served
// as separate files under /graphiql/ whose names carry a hash of their content, so a
// browser keeps them for a year and asks again only when they change; every response
// is compressed with br or gzip when the browser accepts it. The bundle (about 30 MB
// of heap once loaded) is imported on the first request for the page, never in production.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { GraphiQLOptions } from 'graphql-yoga';
import Negotiator from 'negotiator';

export const GRAPHIQL_ASSETS_PATH = '/graphiql/';

export const EXAMPLE_QUERY = `# Welcome to Heddle. Every request needs a token in the Headers tab below:
#   npm run heddle -- token --email you@example.com
# prints a member token; paste it in place of the placeholder, then run (Ctrl-Enter).
query Viewer {
  viewer {
    kind
    user { email name }
    organizations(first: 10) {
      totalCount
      edges { node { id name slug } }
    }
  }
}
`;

export const TOKEN_PLACEHOLDER = '<paste a token: npm run heddle -- token --email you@example.com>';
const EXAMPLE_HEADERS = JSON.stringify({ Authorization: `Bearer ${TOKEN_PLACEHOLDER}` }, null, 2);

interface Asset {
  body: Buffer;
  type: string;
  /** Content hash: part of an asset's name, the page's ETag. */
  hash: string;
  cacheControl: string;
  /** Compressed bodies, made on first request and kept for the process's life. */
  encoded: Map<string, Promise<Buffer>>;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

function asset(body: Buffer | string, type: string, cacheControl = IMMUTABLE): Asset {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return { body: bytes, type, hash: createHash('sha256').update(bytes).digest('hex').slice(0, 16), cacheControl, encoded: new Map() };
}

interface GraphiqlFiles {
  byName: Map<string, Asset>;
  url: (name: string) => string;
}

/** The page's files by their hashed names, built once per process (they only depend on the package). */
let files: Promise<GraphiqlFiles> | undefined;
function graphiqlFiles(): Promise<GraphiqlFiles> {
  files ??= import('@graphql-yoga/render-graphiql/graphiql').then(({ css, editorWorkerService, favicon, graphqlWorker, js, jsonWorker }) => {
    const [, faviconType = 'image/x-icon', faviconData = ''] = /^data:([^;]+);base64,(.*)$/s.exec(favicon) ?? [];
    const sources: [string, Asset][] = [
      ['graphiql.js', asset(js, 'text/javascript; charset=utf-8')],
      ['graphiql.css', asset(css, 'text/css; charset=utf-8')],
      ['editor.worker.js', asset(editorWorkerService, 'text/javascript; charset=utf-8')],
      ['json.worker.js', asset(jsonWorker, 'text/javascript; charset=utf-8')],
      ['graphql.worker.js', asset(graphqlWorker, 'text/javascript; charset=utf-8')],
      ['favicon.ico', asset(Buffer.from(faviconData, 'base64'), faviconType)],
    ];
    const hashedName = (name: string, hash: string) => name.replace(/\.(\w+)$/, `.${hash}.$1`);
    const byName = new Map(sources.map(([name, file]) => [hashedName(name, file.hash), file]));
    const urls = new Map(sources.map(([name, file]) => [name, `${GRAPHIQL_ASSETS_PATH}${hashedName(name, file.hash)}`]));
    return { byName, url: (name: string) => urls.get(name)! };
  });
  return files;
}

/** Yoga's GraphiQL options for Heddle: the example tab and the header placeholder, Headers tab open. */
export function graphiqlOptions(endpoint: string): GraphiQLOptions {
  return {
    title: 'Heddle GraphiQL',
    endpoint,
    defaultTabs: [{ query: EXAMPLE_QUERY, headers: EXAMPLE_HEADERS }],
    defaultHeaders: EXAMPLE_HEADERS,
    defaultEditorToolsVisibility: 'headers',
  };
}

async function renderPage(options: GraphiQLOptions): Promise<string> {
  const { url } = await graphiqlFiles();
  const workers = { editorWorkerService: url('editor.worker.js'), json: url('json.worker.js'), graphql: url('graphql.worker.js') };
  // JSON inside <script>: escape "<" so no value can close the element.
  const json = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${options.title}</title>
    <link rel="icon" href="${url('favicon.ico')}" />
    <link rel="stylesheet" href="${url('graphiql.css')}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script src="${url('graphiql.js')}"></script>
    <script>
      const workers = ${json(workers)};
      self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => workers[label] };
      // The placeholder is no token and the server refuses it: until one is pasted, GraphiQL
      // fetches the schema without it so the docs work at once (operations still send it and
      // get the server's explanation).
      const placeholder = ${json(TOKEN_PLACEHOLDER)};
      const fetchWithToken = globalThis.fetch;
      globalThis.fetch = (input, init = {}) => {
        const headers = new Headers(init.headers);
        const introspection = /"operationName":"IntrospectionQuery"/.test(String(init.body));
        if (introspection && headers.get('authorization')?.includes(placeholder)) {
          headers.delete('authorization');
          init = { ...init, headers };
        }
        return fetchWithToken(input, init);
      };
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${json(options)});
    </script>
  </body>
</html>
`;
}

/**
 * GraphiQL's routes: the page at the GraphQL endpoint for a browser's GET (as Yoga
 * decides it: `Accept: text/html`), and its files under /graphiql/.
 */
export function createGraphiQL(endpoint: string) {
  let page: Promise<Asset> | undefined;
  async function respond(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    // The page is small and revalidated (ETag); the files it names never change.
    page ??= renderPage(graphiqlOptions(endpoint)).then((html) => asset(html, 'text/html; charset=utf-8', 'no-cache'));
    const readable = req.method === 'GET' || req.method === 'HEAD';
    const file = !readable ? undefined : path.startsWith(GRAPHIQL_ASSETS_PATH) ? (await graphiqlFiles()).byName.get(path.slice(GRAPHIQL_ASSETS_PATH.length)) : await page;
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    await send(req, res, file);
  }
  return {
    handles: (req: IncomingMessage, path: string): boolean =>
      path.startsWith(GRAPHIQL_ASSETS_PATH) ||
      (req.method === 'GET' && (path === endpoint || path === `${endpoint}/`) && !!req.headers.accept?.includes('text/html')),
    serve(req: IncomingMessage, res: ServerResponse, path: string): void {
      void respond(req, res, path).catch(() => res.destroy());
    },
  };
}

const compressors = {
  br: (body: Buffer) =>
    promisify(zlib.brotliCompress)(body, {
      // Quality 6: a third of quality 11's time for 10 % more bytes on 5 MB of JavaScript.
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 6, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length },
    }),
  gzip: (body: Buffer) => promisify(zlib.gzip)(body, { level: 6 }),
} as const;

type EncodingNegotiator = Negotiator & { encoding(available: string[], options: { preferred: string[] }): string | undefined };

async function send(req: IncomingMessage, res: ServerResponse, file: Asset): Promise<void> {
  // Server preference breaks ties: browsers list gzip before br with the same weight.
  const encoding = (new Negotiator(req) as EncodingNegotiator).encoding(['br', 'gzip', 'identity'], { preferred: ['br', 'gzip', 'identity'] }) ?? 'identity';
  const etag = `"${file.hash}${encoding === 'identity' ? '' : `-${encoding}`}"`;
  const headers: Record<string, string> = {
    'content-type': file.type,
    'cache-control': file.cacheControl,
    etag,
    vary: 'Accept-Encoding',
    'x-content-type-options': 'nosniff',
  };
  if (req.headers['if-none-match']?.split(/\s*,\s*/).includes(etag)) {
    res.writeHead(304, headers).end();
    return;
  }
  let body = file.body;
  if (encoding === 'br' || encoding === 'gzip') {
    let pending = file.encoded.get(encoding);
    if (!pending) file.encoded.set(encoding, (pending = compressors[encoding](file.body)));
    body = await pending;
    headers['content-encoding'] = encoding;
  }
  headers['content-length'] = String(body.length);
  res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
}
