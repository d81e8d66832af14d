import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { describeEachBackend } from '../support/backends.js';
import type { TestApp } from '../support/app.js';
import { missingId } from '../support/fixtures.js';

const CreateOrganization = graphql(`
  mutation CreateOrganization($input: CreateOrganizationInput!) {
    createOrganization(input: $input) {
      __typename
      ... on Organization { id slug name }
      ...ErrorFields
    }
  }
`);

const CreateWorkspace = graphql(`
  mutation CreateWorkspace($input: CreateWorkspaceInput!) {
    createWorkspace(input: $input) {
      __typename
      ... on Workspace { id slug configVersion organization { slug } }
      ...ErrorFields
    }
  }
`);

const ViewerOrganizations = graphql(`
  query ViewerOrganizations {
    viewer {
      kind
      user { email }
      organizations(first: 10) {
        totalCount
        edges { node { slug workspaces(first: 10) { totalCount edges { node { slug } } } } }
      }
    }
  }
`);

const OrganizationBySlug = graphql(`
  query OrganizationBySlug($slug: String, $id: ID) {
    organization(slug: $slug, id: $id) { id name }
  }
`);

const NodeById = graphql(`
  query NodeById($id: ID!) {
    node(id: $id) { __typename id ... on Organization { slug } ... on Workspace { slug } }
  }
`);

// No tenant fixture here: the tests create the organizations themselves.
describeEachBackend('organizations and workspaces', (_backend, test) => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  test.beforeAll(async ({ t: app }) => {
    t = app;
    alice = await t.memberToken('alice@example.com');
    bob = await t.memberToken('bob@example.com');
  });

  async function createOrganization(token: string, slug: string) {
    const result = await t.request(CreateOrganization, { input: { name: `Org ${slug}`, slug } }, token);
    const org = result.data?.createOrganization;
    if (org?.__typename !== 'Organization') throw new Error(`createOrganization failed: ${JSON.stringify(result)}`);
    return org;
  }

  test('an anonymous caller sees no organizations and cannot create one', async () => {
    const viewer = await t.request(ViewerOrganizations);
    expect(viewer.data?.viewer).toEqual({ kind: 'ANONYMOUS', user: null, organizations: { totalCount: 0, edges: [] } });
    const created = await t.request(CreateOrganization, { input: { name: 'X', slug: 'x' } });
    expect(created.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  test('a member creates an organization and workspaces and reads them back', async () => {
    const org = await createOrganization(alice, 'acme');
    for (const slug of ['production', 'staging']) {
      const ws = await t.request(CreateWorkspace, { input: { organizationId: org.id, name: slug, slug } }, alice);
      expect(ws.data?.createWorkspace).toMatchObject({ __typename: 'Workspace', slug, configVersion: 0, organization: { slug: 'acme' } });
    }
    const viewer = await t.request(ViewerOrganizations, undefined, alice);
    expect(viewer.data?.viewer.kind).toBe('MEMBER');
    expect(viewer.data?.viewer.user?.email).toBe('alice@example.com');
    const acme = viewer.data?.viewer.organizations.edges.find((e) => e.node.slug === 'acme')?.node;
    expect(acme?.workspaces.totalCount).toBe(2);
    expect(acme?.workspaces.edges.map((e) => e.node.slug)).toEqual(['production', 'staging']);

    const bySlug = await t.request(OrganizationBySlug, { slug: 'acme' }, alice);
    expect(bySlug.data?.organization).toEqual({ id: org.id, name: 'Org acme' });
    const node = await t.request(NodeById, { id: org.id }, alice);
    expect(node.data?.node).toEqual({ __typename: 'Organization', id: org.id, slug: 'acme' });
  });

  test("createOrganization's own payload shows the caller as OWNER; nobody else's role changes", async () => {
    const CreateAsOwner = graphql(`
      mutation CreateOrganizationAsOwner($input: CreateOrganizationInput!) {
        createOrganization(input: $input) { ... on Organization { id viewerRole members(first: 5) { edges { node { role user { email } } } } } }
      }
    `);
    const result = await t.request(CreateAsOwner, { input: { name: 'Owned', slug: 'owned' } }, alice);
    expect(result.errors).toBeUndefined();
    const created = result.data?.createOrganization as { id: string; viewerRole: string | null; members: unknown };
    expect(created).toEqual({ id: created.id, viewerRole: 'OWNER', members: { edges: [{ node: { role: 'OWNER', user: { email: 'alice@example.com' } } }] } });
    // Another member still has no role there: the organization is not found for them.
    const ViewerRole = graphql(`query OrganizationViewerRole($id: ID!) { organization(id: $id) { viewerRole } }`);
    expect((await t.request(ViewerRole, { id: created.id }, bob)).data?.organization).toBeNull();
    expect((await t.request(ViewerRole, { id: created.id }, alice)).data?.organization).toEqual({ viewerRole: 'OWNER' });
  });

  test('a bad slug is a ValidationError with its input path, and nothing is written', async () => {
    const result = await t.request(CreateOrganization, { input: { name: 'Bad', slug: 'Not A Slug' } }, alice);
    expect(result.data?.createOrganization).toMatchObject({
      __typename: 'ValidationError',
      code: 'VALIDATION_ERROR',
      fieldErrors: [{ path: ['input', 'slug'] }],
    });
    const viewer = await t.request(ViewerOrganizations, undefined, alice);
    expect(viewer.data?.viewer.organizations.edges.map((e) => e.node.slug)).not.toContain('Not A Slug');
  });

  test('a taken slug is a CONFLICT, not a server error', async () => {
    await createOrganization(alice, 'taken');
    const result = await t.request(CreateOrganization, { input: { name: 'Again', slug: 'taken' } }, bob);
    expect(result.errors).toBeUndefined();
    expect(result.data?.createOrganization).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });
  });

  test('workspace slugs are unique per organization, not globally', async () => {
    const one = await createOrganization(alice, 'one');
    const two = await createOrganization(alice, 'two');
    const first = await t.request(CreateWorkspace, { input: { organizationId: one.id, name: 'Prod', slug: 'prod' } }, alice);
    const again = await t.request(CreateWorkspace, { input: { organizationId: one.id, name: 'Prod', slug: 'prod' } }, alice);
    const elsewhere = await t.request(CreateWorkspace, { input: { organizationId: two.id, name: 'Prod', slug: 'prod' } }, alice);
    expect(first.data?.createWorkspace.__typename).toBe('Workspace');
    expect(again.data?.createWorkspace).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });
    expect(elsewhere.data?.createWorkspace.__typename).toBe('Workspace');
  });

  test('50 concurrent createWorkspace calls with one slug: one succeeds, 49 get CONFLICT, no extra rows', async () => {
    const org = await createOrganization(alice, 'race');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        t.request(CreateWorkspace, { input: { organizationId: org.id, name: `Racer ${i}`, slug: 'contested' } }, alice),
      ),
    );
    expect(results.every((r) => r.errors === undefined)).toBe(true);
    const kinds = results.map((r) => r.data?.createWorkspace.__typename);
    expect(kinds.filter((k) => k === 'Workspace')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'ConflictError')).toHaveLength(49);
    const viewer = await t.request(ViewerOrganizations, undefined, alice);
    const race = viewer.data?.viewer.organizations.edges.find((e) => e.node.slug === 'race')?.node;
    expect(race?.workspaces.totalCount).toBe(1);
  });

  test("another tenant's organization is NOT_FOUND through every path, like an id that does not exist", async () => {
    const org = await createOrganization(alice, 'private');
    for (const id of [org.id, missingId('Organization'), 'not-a-global-id']) {
      expect((await t.request(OrganizationBySlug, { id }, bob)).data?.organization).toBeNull();
      expect((await t.request(NodeById, { id }, bob)).data?.node).toBeNull();
      const ws = await t.request(CreateWorkspace, { input: { organizationId: id, name: 'W', slug: 'w' } }, bob);
      expect(ws.data?.createWorkspace).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
    expect((await t.request(OrganizationBySlug, { slug: 'private' }, bob)).data?.organization).toBeNull();
  });

  test('_service { sdl } equals the committed schema.graphql', async () => {
    const committed = await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8');
    // Federation fields are not part of the subgraph SDL, so this document is untyped.
    const result = await t.requestRaw<{ _service: { sdl: string } }>('{ _service { sdl } }');
    expect(result.data?._service.sdl.trimEnd()).toBe(committed.trimEnd());
  });
});
