// Composes a supergraph from running subgraphs, reading each one's SDL through
// `_service { sdl }` (the way rover and Hive's tooling do), with
// @theguild/federation-composition, the composer Hive Gateway itself uses.
//
//   HEDDLE_ROUTER_SECRET=… npx tsx compose.ts heddle=${HEDDLE_URL:-http://localhost:4000}/graphql \
//     accounts=http://localhost:4001/graphql > supergraph.graphql
//
// Heddle's SDL is also committed as schema.graphql: `heddle=./schema.graphql`
// reads a file instead of asking the service; the endpoint written into the
// supergraph is then HEDDLE_URL's /graphql (<NAME>_URL's for any subgraph given
// as a file; default http://localhost:4000), as in every Heddle example.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';

export interface Subgraph {
  name: string;
  /** The subgraph's GraphQL endpoint, which the gateway will call. */
  url: string;
  /** Its SDL; fetched from `url` when absent. */
  sdl?: string;
}

/** Heddle answers only callers with the router secret when HEDDLE_ROUTER_SECRET is set. */
const routerHeaders = (): Record<string, string> =>
  process.env.HEDDLE_ROUTER_SECRET ? { 'x-heddle-router-secret': process.env.HEDDLE_ROUTER_SECRET } : {};

export async function fetchSubgraphSdl(url: string, headers: Record<string, string> = routerHeaders()): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
  });
  const body = (await response.json()) as { data?: { _service?: { sdl?: string } }; errors?: unknown };
  const sdl = body.data?._service?.sdl;
  if (!sdl) throw new Error(`${url} did not return _service { sdl }: ${response.status} ${JSON.stringify(body.errors ?? body)}`);
  return sdl;
}

export async function composeSupergraph(subgraphs: Subgraph[]): Promise<string> {
  const services = await Promise.all(
    subgraphs.map(async ({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl ?? (await fetchSubgraphSdl(url))) })),
  );
  const result = composeServices(services);
  if (result.errors?.length || !result.supergraphSdl) {
    throw new Error(`composition failed:\n${(result.errors ?? []).map((e) => `  ${e.message}`).join('\n')}`);
  }
  return result.supergraphSdl;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const subgraphs = await Promise.all(
    process.argv.slice(2).map(async (arg) => {
      const [name, location] = arg.split(/=(.*)/s);
      if (!name || !location) throw new Error(`expected name=url or name=file.graphql, got "${arg}"`);
      return /^https?:/.test(location)
        ? { name, url: location }
        : { name, url: `${process.env[`${name.toUpperCase()}_URL`] ?? 'http://localhost:4000'}/graphql`, sdl: await readFile(location, 'utf8') };
    }),
  );
  process.stdout.write(await composeSupergraph(subgraphs));
}
