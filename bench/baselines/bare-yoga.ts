// Baseline "bare Yoga": graphql-yoga with the subset of Heddle's SDL that W1
// and W3 use, resolvers running the same SQL through pg (by-hand.ts), no
// authentication, no Prisma, no plugins: the framework's own floor.
//
// With BENCH_YOGA_MODE=prisma it is a step between that floor and Heddle, for
// W1 only: the same Yoga, but every request authenticated by Heddle's own
// authenticator (its key read once, as Heddle's principal cache does) and the
// workspace read by Prisma with Heddle's tenancy filter, i.e. Heddle's one
// statement through Heddle's data layer, without Pothos, scope-auth and
// Heddle's plugins: what Prisma costs above bare Yoga's floor.
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import { globalId, openPool, resolveByHand, rowId, workspaceById } from './by-hand.js';

const pool = openPool();
type ReadWorkspace = (id: string) => Promise<{ id: string; name: string; slug: string } | null>;
type Context = { workspace?: ReadWorkspace };

const readWorkspace: ReadWorkspace = (id) => workspaceById(pool, id);

const typeDefs = /* GraphQL */ `
  type Query {
    workspace(id: ID!): Workspace
  }
  type Mutation {
    resolveConnection(input: ResolveConnectionInput!): ResolveConnectionResult!
  }
  type Workspace { id: ID! name: String! slug: String! }
  input ResolveConnectionInput { workspaceId: ID! integration: String! externalId: String action: String }
  union ResolveConnectionResult = ConnectionResolution | NotFoundError
  enum ResolutionSource { FIXED USER DIRECTORY FALLBACK }
  enum ConnectionStatus { ACTIVE ERROR }
  type Connection { id: ID! integrationName: String! status: ConnectionStatus! }
  type ConnectionResolution { source: ResolutionSource! connection: Connection! }
  enum ErrorCode { NOT_FOUND }
  interface Error { message: String! code: ErrorCode! }
  type NotFoundError implements Error { message: String! code: ErrorCode! }
`;

/** Prisma mode only: each request's context says how `workspace` reads its row (no context at all otherwise). */
async function prismaContext(): Promise<(request: Request) => Promise<Context>> {
  const [{ openDatabase }, { createAuthenticator }, { ApiKeyUsage }, { visible }, { createLogger }] = await Promise.all([
    import('../../src/platform/db/database.js'),
    import('../../src/auth/principal.js'),
    import('../../src/auth/api-key-usage.js'),
    import('../../src/auth/registry.js'),
    import('../../src/platform/logger.js'),
  ]);
  const principals = new Map<string, Promise<unknown>>();
  const { prisma } = await openDatabase({ kind: 'postgres', url: process.env.DATABASE_URL!, poolSize: Number(process.env.DATABASE_POOL_SIZE ?? 10) });
  const authenticator = createAuthenticator({
    prisma,
    jwt: { secret: 'api keys only: no member sessions here', isDevelopmentSecret: false },
    apiKeyUsage: new ApiKeyUsage(prisma, createLogger('warn')),
    // Each key read once, as Heddle's principal cache does: Prisma's one statement per request is the step measured.
    principals: {
      principalOf: <P,>(tokenHash: string, load: () => Promise<P>) => (principals.get(tokenHash) ?? principals.set(tokenHash, load()).get(tokenHash)!) as Promise<P>,
    },
  });
  return async (request) => {
    const principal = await authenticator.authenticate(request.headers.get('authorization'));
    return { workspace: (id) => prisma.workspace.findFirst({ where: { id, AND: [visible('Workspace', principal)] } }) };
  };
}

const context = process.env.BENCH_YOGA_MODE === 'prisma' ? await prismaContext() : undefined;
const yoga = createYoga<object, Context>({
  schema: createSchema<Context>({
    typeDefs,
    resolvers: {
      Query: {
        workspace: (_: unknown, args: { id: string }, ctx: Context) => (ctx.workspace ?? readWorkspace)(rowId(args.id)),
      },
      Mutation: {
        resolveConnection: async (_: unknown, args: { input: { workspaceId: string; integration: string; externalId?: string | null } }) => ({
          __typename: 'ConnectionResolution',
          ...(await resolveByHand(pool, { ...args.input, workspaceId: rowId(args.input.workspaceId) })),
        }),
      },
      Workspace: { id: (row: { id: string }) => globalId('Workspace', row.id) },
    },
  }),
  ...(context ? { context: ({ request }: { request: Request }) => context(request) } : {}),
  graphqlEndpoint: '/graphql',
  landingPage: false,
  graphiql: false,
});

const server = createServer((req, res) => {
  if (req.url === '/readyz') {
    void pool.query('SELECT 1').then(() => res.writeHead(200).end('{"status":"ok"}'));
    return;
  }
  void yoga(req, res);
});
server.listen(Number(process.env.PORT), process.env.HOST);
process.on('SIGTERM', () => {
  server.close();
  void pool.end().then(() => process.exit(0));
});
