// The permission registry: for every node type of the graph, once, what
// NOT_FOUND calls it, where its rows live (its organization and workspace),
// the rows a principal sees of it besides those of its organizations, and the
// role each verb needs (roleFor; fields declare `may(verb, type, …)`).
// Everything else is derived here, from one definition of what a principal
// sees (`organizationScope`): the tenancy filters of lists, `node` and
// federation entities, the lookups by global id (`requireX`), the ownership
// that role checks and the audit log read (`ownershipOf`), and the SQL form of
// the raw reads (`visibleSql`). A row of another tenant is indistinguishable
// from a missing one (NOT_FOUND); a workspace-restricted API key sees its
// whole organization here and is refused other workspaces by key-scope.ts.
// test/auth/tenancy-matrix.test.ts fails when a Node type has no entry.
import type * as runtime from '@prisma/client/runtime/client';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { NotFoundError } from '../platform/errors.js';
import { decodeGlobalId, decodeId, isUuid, safeUuid } from '../platform/ids.js';
import { assertInKeyScope } from './key-scope.js';
import type { Principal } from './principal.js';
import type { Ownership, RoleRequirement } from './roles.js';

/** What the registry's functions need of a request: its database and its caller. */
export interface Caller {
  prisma: PrismaClient;
  principal: Principal;
}

/** Where a type's rows live, so how to find their organization and workspace. */
type Placement =
  | 'organization' // the row is an organization
  | 'workspace' // the row is a workspace (organizationId)
  | 'organizationId' // a row of an organization, in no workspace
  | 'viaWorkspace' // a row of a workspace (workspaceId); its organization is the workspace's
  | 'columns' // organizationId, and an optional workspaceId
  | 'none'; // in no organization (users)

type Model = Prisma.ModelName;
export type Where<T extends Model> = NonNullable<Prisma.TypeMap['model'][T]['operations']['findFirst']['args']['where']>;
type Row<T extends Model> = runtime.Types.Result.DefaultSelection<Prisma.TypeMap['model'][T]['payload']>;

interface Entry<T extends Model> {
  /** What NOT_FOUND calls a row. */
  label: string;
  placement: Placement;
  /** Rows the principal sees by who it is, besides its organizations' rows. */
  own?: (principal: Principal) => Where<T> | undefined;
  /** `own` as a SQL condition on the row `row`, for the types raw SQL reads. */
  ownSql?: (principal: Principal, row: Prisma.Sql) => Prisma.Sql | undefined;
  /** The column naming who created a row (MEMBERs may manage what they created). */
  creator?: 'createdById';
  /** What each verb needs of the caller's role in the row's organization, where it differs from ROLE_NEEDED. */
  roles?: Partial<Record<Verb, RoleRequirement>>;
}

/**
 * The verbs role checks are declared for: `create` is checked on the parent
 * the input names (a workspace, an organization…), the others on the row.
 */
export type Verb = 'read' | 'create' | 'update' | 'delete' | 'transferOwnership';

/** Unless an entry says otherwise: changes need ADMIN, reads only the tenancy filter. */
const ROLE_NEEDED: Record<Verb, RoleRequirement | null> = {
  read: null,
  create: { atLeast: 'ADMIN' },
  update: { atLeast: 'ADMIN' },
  delete: { atLeast: 'ADMIN' },
  transferOwnership: null,
};

type PeerOf = { id: string; workspaceId: string; directoryId: string | null };

/**
 * Who can interact with whom: two end users of one workspace can when they
 * share a directory (none: the workspace's default one) or a space. The one
 * rule in its two renderings, kept side by side: a Prisma filter for the end
 * users `endUser` can interact with (tenancy, lists), and SQL saying whether
 * the end user row `other` is one of them (the batched EndUser.peers).
 * test/graph/peers.test.ts proves the two agree on every case.
 */
export function peersWhere(endUser: PeerOf): Prisma.EndUserWhereInput {
  return {
    workspaceId: endUser.workspaceId,
    id: { not: endUser.id },
    OR: [
      { directoryId: endUser.directoryId },
      { spaces: { some: { space: { members: { some: { endUserId: endUser.id } } } } } },
    ],
  };
}

/** peersWhere as SQL; `endUser` gives its columns as row references or values. */
export function peersSql(endUser: { [K in keyof PeerOf]: Prisma.Sql }, other: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(${other}."workspaceId" = ${endUser.workspaceId} AND ${other}."id" <> ${endUser.id}
    AND (${other}."directoryId" IS NOT DISTINCT FROM ${endUser.directoryId}
      OR EXISTS (SELECT 1 FROM "SpaceMember" mine JOIN "SpaceMember" theirs ON theirs."spaceId" = mine."spaceId"
                 WHERE mine."endUserId" = ${endUser.id} AND theirs."endUserId" = ${other}."id")))`;
}

/** The end user an end-user principal acts as. */
const selfOf = (p: Extract<Principal, { kind: 'endUser' }>): PeerOf => ({ id: p.endUserId, workspaceId: p.workspaceId, directoryId: p.directoryId });
const uuidSql = (value: string | null) => Prisma.sql`${value}::uuid`;

export const REGISTRY = {
  Organization: {
    label: 'organization',
    placement: 'organization',
    roles: { delete: { atLeast: 'OWNER' }, transferOwnership: { atLeast: 'OWNER' } },
  },
  Workspace: { label: 'workspace', placement: 'workspace' },
  WorkspaceIntegration: { label: 'workspace integration', placement: 'viaWorkspace' },
  McpServer: { label: 'MCP server', placement: 'viaWorkspace' },
  Directory: { label: 'directory', placement: 'viaWorkspace' },
  Space: { label: 'space', placement: 'viaWorkspace' },
  ConnectSession: { label: 'connect session', placement: 'viaWorkspace' },
  EndUser: {
    label: 'end user',
    placement: 'viaWorkspace',
    // An end user sees itself and the end users it can interact with.
    own: (p) => (p.kind === 'endUser' ? { OR: [{ id: p.endUserId }, peersWhere(selfOf(p))] } : undefined),
    ownSql: (p, row) => {
      if (p.kind !== 'endUser') return undefined;
      const self = selfOf(p);
      const values = { id: uuidSql(self.id), workspaceId: uuidSql(self.workspaceId), directoryId: uuidSql(self.directoryId) };
      return Prisma.sql`(${row}."id" = ${values.id} OR ${peersSql(values, row)})`;
    },
  },
  Connection: {
    label: 'connection',
    placement: 'columns',
    creator: 'createdById',
    own: (p) => (p.kind === 'endUser' ? { endUserId: p.endUserId } : undefined),
    // Every member may connect; a MEMBER manages only the connections it created.
    roles: { create: { atLeast: 'MEMBER' }, update: { atLeast: 'ADMIN', orCreator: true }, delete: { atLeast: 'ADMIN', orCreator: true } },
  },
  Trigger: { label: 'trigger', placement: 'columns' },
  // An end user sees the executions it ran (or that ran for it).
  ActionExecution: {
    label: 'action execution',
    placement: 'columns',
    own: (p) => (p.kind === 'endUser' ? { endUserId: p.endUserId, workspaceId: p.workspaceId } : undefined),
  },
  ApiKey: { label: 'API key', placement: 'organizationId', roles: { read: { atLeast: 'ADMIN' } } },
  Member: { label: 'member', placement: 'organizationId' },
  // The person an invite is addressed to may read it (besides its organization's ADMINs).
  Invite: {
    label: 'invite',
    placement: 'organizationId',
    own: (p) => (p.kind === 'member' ? { email: p.email } : undefined),
    roles: { read: { atLeast: 'ADMIN' } },
  },
  OAuthApp: { label: 'OAuth app', placement: 'organizationId' },
  User: { label: 'user', placement: 'none', own: (p) => (p.kind === 'member' ? { id: p.userId } : undefined) },
} satisfies { [T in Model]?: Entry<T> };

export type NodeType = keyof typeof REGISTRY;
const entryOf = <T extends NodeType>(type: T) => REGISTRY[type] as Entry<T>;

/** What NOT_FOUND calls a row of `type`. */
export const labelOf = (type: NodeType): string => entryOf(type).label;

/** The role `verb` on a row of `type` needs in the row's organization; null: the tenancy filter alone decides. */
export const roleFor = (type: NodeType, verb: Verb): RoleRequirement | null => entryOf(type).roles?.[verb] ?? ROLE_NEEDED[verb];

// What a principal sees ------------------------------------------------------

/**
 * The organizations a principal sees, as data, so that the Prisma filter and
 * the SQL condition are rendered from this one definition: a member those it
 * is a member of (read by the query itself), an API key its own, nobody else any.
 */
type OrganizationScope = { memberUserId: string } | { organizationId: string } | null;

function organizationScope(principal: Principal): OrganizationScope {
  switch (principal.kind) {
    case 'member':
      return { memberUserId: principal.userId };
    case 'apiKey':
      return { organizationId: principal.organizationId };
    case 'endUser':
    case 'anonymous':
      return null;
  }
}

const organizationWhere = (scope: NonNullable<OrganizationScope>): Prisma.OrganizationWhereInput =>
  'memberUserId' in scope ? { members: { some: { userId: scope.memberUserId } } } : { id: scope.organizationId };

function organizationSql(scope: NonNullable<OrganizationScope>, organizationId: Prisma.Sql): Prisma.Sql {
  return 'memberUserId' in scope
    ? Prisma.sql`EXISTS (SELECT 1 FROM "Member" m WHERE m."organizationId" = ${organizationId} AND m."userId" = ${scope.memberUserId}::uuid)`
    : Prisma.sql`${organizationId} = ${scope.organizationId}::uuid`;
}

/** A filter that matches no row (a batch lookup may skip the database). */
const NOTHING = { id: { in: [] as string[] } };

export const matchesNothing = (where: object): boolean => where === NOTHING;

function placedIn(placement: Placement, organizations: Prisma.OrganizationWhereInput): object | undefined {
  switch (placement) {
    case 'organization':
      return organizations;
    case 'workspace':
    case 'organizationId':
    case 'columns':
      return { organization: organizations };
    case 'viaWorkspace':
      return { workspace: { organization: organizations } };
    case 'none':
      return undefined;
  }
}

function tenancy<T extends NodeType>(type: T, principal: Principal, withOwn: boolean): Where<T> {
  const entry = entryOf(type);
  const own = withOwn ? entry.own?.(principal) : undefined;
  const scope = organizationScope(principal);
  const ofOrganizations = scope && placedIn(entry.placement, organizationWhere(scope));
  if (!ofOrganizations) return (own ?? NOTHING) as Where<T>;
  return (own ? { OR: [ofOrganizations, own] } : ofOrganizations) as Where<T>;
}

/** The rows of `type` the principal may see: for lists, `node`, entities and lookups. */
export const visible = <T extends NodeType>(type: T, principal: Principal): Where<T> => tenancy(type, principal, true);

/** A prismaNode's `findUnique`: the row by id, if the caller may see it. */
export const visibleNode =
  <T extends NodeType>(type: T) =>
  (id: string, ctx: { principal: Principal }) => ({ id: safeUuid(id), AND: [visible(type, ctx.principal)] });

function placedSql(placement: Placement, scope: NonNullable<OrganizationScope>, row: Prisma.Sql): Prisma.Sql | undefined {
  switch (placement) {
    case 'organization':
      return organizationSql(scope, Prisma.sql`${row}."id"`);
    case 'workspace':
    case 'organizationId':
    case 'columns':
      return organizationSql(scope, Prisma.sql`${row}."organizationId"`);
    case 'viaWorkspace':
      return Prisma.sql`EXISTS (SELECT 1 FROM "Workspace" rw WHERE rw."id" = ${row}."workspaceId" AND ${organizationSql(scope, Prisma.sql`rw."organizationId"`)})`;
    case 'none':
      return undefined;
  }
}

/** `visible` as a SQL condition on the row `row` (e.g. Prisma.sql`w`), for raw reads. */
export function visibleSql(type: NodeType, principal: Principal, row: Prisma.Sql): Prisma.Sql {
  const entry = entryOf(type);
  const hasOwn = entry.own?.(principal) !== undefined;
  const own = hasOwn ? entry.ownSql?.(principal, row) : undefined;
  if (hasOwn && !own) throw new Error(`${type} has no SQL form of the rows a principal sees by who it is`);
  const scope = organizationScope(principal);
  const ofOrganizations = scope && placedSql(entry.placement, scope, row);
  if (!ofOrganizations) return own ?? Prisma.sql`FALSE`;
  return own ? Prisma.sql`(${ofOrganizations} OR ${own})` : ofOrganizations;
}

/** The Workspace tenancy on a "Workspace" row aliased `w` (resolveConnection's one read). */
export const visibleWorkspaceSql = (principal: Principal): Prisma.Sql => visibleSql('Workspace', principal, Prisma.sql`w`);

// Lookups by global id -------------------------------------------------------

/** The delegate of `type` (prisma.directory…), seen through the calls made here. */
function delegate(prisma: PrismaClient, type: NodeType) {
  const name = type[0]!.toLowerCase() + type.slice(1);
  return (prisma as unknown as Record<string, unknown>)[name] as {
    findFirst(args: { where: object; select?: object }): Promise<Record<string, unknown> | null>;
    findUnique(args: { where: { id: string }; select: object }): Promise<Record<string, unknown> | null>;
  };
}

/** The workspace a row is in, if its type lives in one. */
function workspaceOf(type: NodeType, row: Record<string, unknown>): string | null {
  const placement = entryOf(type).placement;
  if (placement === 'workspace') return row.id as string;
  if (placement === 'viaWorkspace' || placement === 'columns') return (row.workspaceId as string | null) ?? null;
  return null;
}

/**
 * Resolving an id from an argument or input to a row the caller may see.
 * Malformed ids, ids of another type, other tenants' rows and missing rows
 * all become the same NotFoundError, carrying the input path of the id; a row
 * outside a workspace-restricted API key's workspaces is SCOPE_DENIED.
 */
function lookup<T extends NodeType, Result = Row<T>>(type: T, options: { select?: object; withOwn?: boolean } = {}) {
  return async (caller: Caller, globalId: string, path: string[] = []): Promise<Result> => {
    const id = decodeId(globalId, type);
    const where = { id, AND: [tenancy(type, caller.principal, options.withOwn ?? true)] };
    const row = id ? await delegate(caller.prisma, type).findFirst({ where, ...(options.select && { select: options.select }) }) : null;
    if (!row) throw new NotFoundError(labelOf(type), path);
    const workspaceId = workspaceOf(type, row);
    if (workspaceId) assertInKeyScope(caller.principal, workspaceId);
    return row as Result;
  };
}

export const requireOrganization = lookup<'Organization', { id: string }>('Organization', { select: { id: true } });
export const requireWorkspace = lookup<'Workspace', { id: string; organizationId: string }>('Workspace', {
  select: { id: true, organizationId: true },
});
export const requireWorkspaceIntegration = lookup('WorkspaceIntegration');
export const requireMcpServer = lookup('McpServer');
export const requireDirectory = lookup('Directory');
export const requireSpace = lookup('Space');
export const requireEndUser = lookup('EndUser');
export const requireConnection = lookup('Connection');
export const requireTrigger = lookup('Trigger');
export const requireApiKey = lookup('ApiKey');
export const requireMember = lookup('Member');
/** Invites to manage: those of the caller's organizations (not those merely addressed to it). */
export const requireInvite = lookup('Invite', { withOwn: false });
export const requireOAuthApp = lookup('OAuthApp');

// Ownership ------------------------------------------------------------------

async function findOwnership(prisma: PrismaClient, type: NodeType, id: string): Promise<Ownership | null> {
  const { placement, creator } = entryOf(type);
  const find = (select: object) => delegate(prisma, type).findUnique({ where: { id }, select });
  switch (placement) {
    case 'organization':
      // An unknown organization id needs no query: nobody holds a role in it.
      return { organizationId: id, workspaceId: null };
    case 'workspace': {
      const row = await find({ organizationId: true });
      return row && { organizationId: row.organizationId as string, workspaceId: id };
    }
    case 'organizationId': {
      const row = await find({ organizationId: true });
      return row && { organizationId: row.organizationId as string, workspaceId: null };
    }
    case 'viaWorkspace': {
      const row = (await find({ workspaceId: true, workspace: { select: { organizationId: true } } })) as {
        workspaceId: string;
        workspace: { organizationId: string };
      } | null;
      return row && { organizationId: row.workspace.organizationId, workspaceId: row.workspaceId };
    }
    case 'columns': {
      const row = await find({ organizationId: true, workspaceId: true, ...(creator && { [creator]: true }) });
      return row && { organizationId: row.organizationId as string, workspaceId: row.workspaceId as string | null, ...(creator && { createdById: row[creator] as string | null }) };
    }
    case 'none':
      return null;
  }
}

const memo = new WeakMap<Caller, Map<string, Promise<Ownership | null>>>();

/**
 * Where the row behind a global id lives, for role checks declared on fields
 * (`authScopes: { role: … }`) and the audit log. Not a tenancy filter: the role
 * check only compares the organization with the caller's roles; the lookup
 * still decides NOT_FOUND. Null for malformed ids, missing rows and rows in no
 * organization. Memoised per request: ownership never changes.
 */
export function ownershipOf(caller: Caller, globalId: string | null | undefined): Promise<Ownership | null> {
  if (!globalId) return Promise.resolve(null);
  let cache = memo.get(caller);
  if (!cache) memo.set(caller, (cache = new Map()));
  let found = cache.get(globalId);
  if (!found) {
    const decoded = decodeGlobalId(globalId);
    const known = decoded && Object.hasOwn(REGISTRY, decoded.typename) && isUuid(decoded.id);
    found = known ? findOwnership(caller.prisma, decoded.typename as NodeType, decoded.id) : Promise.resolve(null);
    cache.set(globalId, found);
  }
  return found;
}
