// Realtime shares one execution of an event among the subscribers of one
// visibility class (src/auth/visibility.ts). That is safe only if principals of
// one class get the same outcome from every rule the schema declares. These
// tests check it for every scope of the builder and for every scope-protected
// type and field a subscription payload reaches, over principals that differ
// in each way a rule can see (kind, role, permissions, key workspaces, end
// user, email), and that the classes still let equal keys share.
import { getNamedType, isInterfaceType, isObjectType, isUnionType, type GraphQLNamedType } from 'graphql';
import { describe, expect, test } from 'vitest';
import { API_KEY_PERMISSIONS, type Principal, type Role } from '../../src/auth/principal.js';
import { visibilityClass } from '../../src/auth/visibility.js';
import { authScopesOf } from '../../src/modules/common/builder.js';
import type { Context } from '../../src/modules/common/context.js';
import { schema } from '../../src/schema/index.js';

const ORG = 'org-1';
const member = (userId: string, email: string, roles: [string, Role][]): Principal => ({
  kind: 'member',
  userId,
  email,
  roles: new Map(roles),
  expiresAt: null,
});
const key = (apiKeyId: string, workspaceIds: string[] | null, permissions: string[] = [], expiresAt: Date | null = null): Principal => ({
  kind: 'apiKey',
  apiKeyId,
  organizationId: ORG,
  workspaceIds,
  permissions,
  expiresAt,
});
const endUser = (endUserId: string): Principal => ({
  kind: 'endUser',
  endUserId,
  externalId: `ext-${endUserId}`,
  workspaceId: 'ws-1',
  organizationId: ORG,
  directoryId: null,
  expiresAt: null,
});

const PRINCIPALS: Record<string, Principal> = {
  owner: member('user-1', 'owner@example.com', [[ORG, 'OWNER']]),
  admin: member('user-2', 'admin@example.com', [[ORG, 'ADMIN']]),
  plainMember: member('user-3', 'member@example.com', [[ORG, 'MEMBER']]),
  invitee: member('user-4', 'invitee@example.com', [[ORG, 'MEMBER']]),
  outsider: member('user-5', 'outsider@example.com', [['org-2', 'OWNER']]),
  key: key('key-1', null),
  // The same rights as `key` under another id (and expiry): the one pair here that must share a class.
  twinKey: key('key-2', null, [], new Date(Date.now() + 3_600_000)),
  credentialsKey: key('key-3', null, [API_KEY_PERMISSIONS.CREDENTIALS_READ]),
  executeKey: key('key-4', null, [API_KEY_PERMISSIONS.EXECUTE]),
  keyForWs1: key('key-5', ['ws-1']),
  keyForWs2: key('key-6', ['ws-2']),
  endUser: endUser('end-user-1'),
  otherEndUser: endUser('end-user-2'),
  anonymous: { kind: 'anonymous' },
};

/** Rows as rules receive them: in each workspace or none, created by a member, addressed to the invitee. */
const ROWS = ['ws-1', 'ws-2', null].flatMap((workspaceId) => [
  { id: workspaceId ?? 'org-row', organizationId: ORG, workspaceId, createdById: 'user-3', email: 'invitee@example.com' },
]);

const contextOf = (principal: Principal) => ({ principal }) as Context;

/** What a scope map grants, evaluated like scope-auth: a plain map is any of its scopes, $all each of them. */
async function grants(map: unknown, scopes: Record<string, unknown>): Promise<boolean> {
  if (typeof map === 'boolean') return map;
  const results = await Promise.all(
    Object.entries(map as Record<string, unknown>).map(async ([scope, parameter]) => {
      if (scope === '$all') {
        const all = await Promise.all(Object.entries(parameter as object).map(([s, p]) => grants({ [s]: p }, scopes)));
        return all.every(Boolean);
      }
      if (scope === '$any') return grants(parameter, scopes);
      const value = scopes[scope];
      if (value === undefined) throw new Error(`unknown scope ${scope}`);
      return typeof value === 'function' ? Boolean(await value(parameter)) : Boolean(value);
    }),
  );
  return results.some(Boolean);
}

/** A rule's outcome for a principal on a row: granted, refused, or the error it throws (SCOPE_DENIED). */
async function outcome(rule: unknown, level: 'type' | 'field', row: object, principal: Principal): Promise<string> {
  const ctx = contextOf(principal);
  try {
    const map = typeof rule === 'function' ? await (level === 'type' ? rule(row, ctx) : rule(row, {}, ctx, {})) : rule;
    return String(await grants(map, authScopesOf(ctx)));
  } catch (error) {
    return `throws ${(error as Error).name}`;
  }
}

/** Every type and field with authScopes that a subscription's payload reaches. */
function protectedBySubscriptions(): { name: string; level: 'type' | 'field'; rule: unknown }[] {
  const found: { name: string; level: 'type' | 'field'; rule: unknown }[] = [];
  const seen = new Set<string>();
  const visit = (type: GraphQLNamedType) => {
    if (seen.has(type.name)) return;
    seen.add(type.name);
    if (isUnionType(type)) return type.getTypes().forEach(visit);
    if (!isObjectType(type) && !isInterfaceType(type)) return;
    const typeRule = (type.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions?.authScopes;
    if (typeRule) found.push({ name: type.name, level: 'type', rule: typeRule });
    for (const field of Object.values(type.getFields())) {
      const fieldRule = (field.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions?.authScopes;
      if (fieldRule) found.push({ name: `${type.name}.${field.name}`, level: 'field', rule: fieldRule });
      visit(getNamedType(field.type));
    }
  };
  for (const field of Object.values(schema.getSubscriptionType()!.getFields())) visit(getNamedType(field.type));
  return found;
}

const pairs = () => {
  const names = Object.keys(PRINCIPALS);
  return names.flatMap((a, i) => names.slice(i + 1).map((b) => [a, b] as const));
};

describe('visibility classes', () => {
  test('each scope-protected type and field of every subscription payload splits the principals it treats differently', async () => {
    const rules = protectedBySubscriptions();
    // The payloads reach the workspace's whole graph: a handful would mean the walk broke.
    expect(rules.length).toBeGreaterThan(10);
    for (const { name, level, rule } of rules) {
      const outcomes = Object.fromEntries(
        await Promise.all(
          Object.entries(PRINCIPALS).map(async ([who, principal]) => [who, await Promise.all(ROWS.map((row) => outcome(rule, level, row, principal)))]),
        ),
      );
      let splits = 0;
      for (const [a, b] of pairs()) {
        if (JSON.stringify(outcomes[a]) === JSON.stringify(outcomes[b])) continue;
        splits++;
        expect(visibilityClass(PRINCIPALS[a]!), `${name}: ${a} and ${b} differ`).not.toBe(visibilityClass(PRINCIPALS[b]!));
      }
      // A rule none of these principals tells apart would test nothing: extend PRINCIPALS for it.
      expect(splits, `${name} treats every sample principal alike`).toBeGreaterThan(0);
    }
  });

  test('principals of one class get the same answer from every scope the builder declares', async () => {
    const parameters: Record<string, unknown[]> = {
      workspaceInKeyScope: ['ws-1', 'ws-2'],
      roleOn: ROWS.flatMap((row) =>
        (['OWNER', 'ADMIN', 'MEMBER'] as const).flatMap((atLeast) => [
          { row, atLeast },
          { row, atLeast, orCreator: true },
        ]),
      ),
      // `role` loads the target's ownership, then applies the same rule as roleOn.
      role: [],
    };
    const answers = async (principal: Principal) => {
      const scopes = authScopesOf(contextOf(principal));
      const out: Record<string, unknown> = {};
      for (const [scope, value] of Object.entries(scopes)) {
        if (typeof value !== 'function') {
          out[scope] = value;
          continue;
        }
        // A new parameterised scope needs sample parameters here before it can be trusted.
        expect(parameters, `sample parameters for the scope ${scope}`).toHaveProperty(scope);
        out[scope] = await Promise.all(
          parameters[scope]!.map(async (parameter) => {
            try {
              return await (value as (p: unknown) => unknown)(parameter);
            } catch (error) {
              return `throws ${(error as Error).name}`;
            }
          }),
        );
      }
      return out;
    };
    let equalPairs = 0;
    for (const [a, b] of pairs()) {
      if (visibilityClass(PRINCIPALS[a]!) !== visibilityClass(PRINCIPALS[b]!)) continue;
      equalPairs++;
      expect(await answers(PRINCIPALS[a]!), `${a} and ${b} share a class`).toEqual(await answers(PRINCIPALS[b]!));
    }
    // Keys with equal rights share: the class is not the credential's identity.
    expect(visibilityClass(PRINCIPALS.key!)).toBe(visibilityClass(PRINCIPALS.twinKey!));
    expect(equalPairs).toBeGreaterThan(0);
  });

  test('the class ignores the order of sets (permissions, key workspaces, roles)', () => {
    const a = key('a', ['ws-1', 'ws-2'], [API_KEY_PERMISSIONS.EXECUTE, API_KEY_PERMISSIONS.PROXY]);
    const b = key('b', ['ws-2', 'ws-1'], [API_KEY_PERMISSIONS.PROXY, API_KEY_PERMISSIONS.EXECUTE]);
    expect(visibilityClass(a)).toBe(visibilityClass(b));
    const roles: [string, Role][] = [
      [ORG, 'OWNER'],
      ['org-2', 'MEMBER'],
    ];
    expect(visibilityClass(member('u', 'e', roles))).toBe(visibilityClass(member('u', 'e', [...roles].reverse())));
  });
});
