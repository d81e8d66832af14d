// Organizations, members, invites and roles (DESIGN §3), and the audit log.
import { describe, expect } from 'vitest';
import { graphql } from '../generated/index.js';
import type { TestApp } from '../support/app.js';
import { seedConnection, seedOrganization, seedWorkspace } from '../support/fixtures.js';
import { startAppBeforeAll, test as world } from '../support/world.js';

const Invite = graphql(`
  mutation MbInvite($input: InviteMemberInput!) {
    inviteMember(input: $input) { __typename ... on Invite { id email role status expiresAt } ...ErrorFields }
  }
`);
const Accept = graphql(`
  mutation MbAccept($input: AcceptInviteInput!) {
    acceptInvite(input: $input) { __typename ... on Member { id role user { email } } ...ErrorFields }
  }
`);
const Revoke = graphql(`
  mutation MbRevoke($input: RevokeInviteInput!) { revokeInvite(input: $input) { __typename ... on Invite { status } ...ErrorFields } }
`);
const UpdateRole = graphql(`
  mutation MbRole($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { __typename ... on Member { role } ...ErrorFields } }
`);
const Remove = graphql(`
  mutation MbRemove($input: RemoveMemberInput!) { removeMember(input: $input) { __typename ...ErrorFields } }
`);
const Transfer = graphql(`
  mutation MbTransfer($input: TransferOwnershipInput!) { transferOwnership(input: $input) { __typename ...ErrorFields } }
`);
const DeleteOrg = graphql(`
  mutation MbDeleteOrg($input: DeleteOrganizationInput!) { deleteOrganization(input: $input) { __typename ...ErrorFields } }
`);
const CreateWorkspace = graphql(`
  mutation MbCreateWorkspace($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { __typename ...ErrorFields } }
`);
const Rename = graphql(`
  mutation MbRename($input: RenameConnectionInput!) { renameConnection(input: $input) { __typename ... on Connection { displayName } ...ErrorFields } }
`);
const Org = graphql(`
  query MbOrg($id: ID!) {
    organization(id: $id) { viewerRole members(first: 20) { totalCount edges { node { id role user { email } } } } }
  }
`);
const OrgInvites = graphql(`
  query MbInvites($id: ID!) { organization(id: $id) { invites(first: 20) { totalCount edges { node { email status } } } } }
`);
const MyInvites = graphql(`query MbMyInvites { viewer { invites { id email organization { slug } } } }`);
const Audit = graphql(`
  query MbAudit($id: ID!, $action: String) {
    organization(id: $id) {
      auditEvents(first: 50, action: $action) {
        totalCount
        edges { node { action outcome actorType actorId targetType targetId details occurredAt } }
      }
    }
  }
`);
const ViewerUser = graphql(`query MbViewerUser { viewer { user { id } } }`);

let slugs = 0;
/** An organization owned by a new user, with one member of each other role. */
async function makeTeam(t: TestApp) {
  const n = ++slugs;
  const tokens = {
    owner: await t.memberToken(`owner${n}@team.test`),
    admin: await t.memberToken(`admin${n}@team.test`),
    member: await t.memberToken(`member${n}@team.test`),
  };
  const orgId = await seedOrganization(t, tokens.owner, `team-${n}`);
  const ids: Record<string, string> = {};
  for (const role of ['ADMIN', 'MEMBER'] as const) {
    const who = role === 'ADMIN' ? 'admin' : 'member';
    const invite = await t.request(Invite, { input: { organizationId: orgId, email: `${who}${n}@team.test`, role } }, tokens.owner);
    const accepted = await t.request(Accept, { input: { id: (invite.data!.inviteMember as { id: string }).id } }, tokens[who]);
    ids[who] = (accepted.data!.acceptInvite as { id: string }).id;
  }
  const members = (await t.request(Org, { id: orgId }, tokens.owner)).data!.organization!.members.edges;
  ids.owner = members.find((e) => e.node.role === 'OWNER')!.node.id;
  return { n, orgId, tokens, ids };
}

const roles = async (t: TestApp, orgId: string, token: string) =>
  (await t.request(Org, { id: orgId }, token)).data!.organization!.members.edges.map((e) => e.node.role).sort();

/** Each test gets a team of its own. */
const test = world.extend('team', ({ t }) => makeTeam(t));
startAppBeforeAll(test);

describe('organizations and members', () => {
  test('the creator is the only OWNER; invited people join with the invited role', async ({ t, team: { orgId, tokens } }) => {
    expect((await t.request(Org, { id: orgId }, tokens.owner)).data!.organization!.viewerRole).toBe('OWNER');
    expect((await t.request(Org, { id: orgId }, tokens.admin)).data!.organization!.viewerRole).toBe('ADMIN');
    expect(await roles(t, orgId, tokens.member)).toEqual(['ADMIN', 'MEMBER', 'OWNER']);
  });

  test('an invite is for ADMIN or MEMBER only, expires after 7 days, and a second one for the same email is a CONFLICT', async ({ t, team: { orgId, tokens } }) => {
    const asOwner = await t.requestRaw(
      'mutation($o: ID!) { inviteMember(input: { organizationId: $o, email: "x@team.test", role: OWNER }) { __typename } }',
      { o: orgId },
      tokens.owner,
    );
    expect(asOwner.errors?.[0]?.message).toMatch(/OWNER/);
    const first = await t.request(Invite, { input: { organizationId: orgId, email: 'New.Person@Team.test', role: 'MEMBER' } }, tokens.admin);
    expect(first.data!.inviteMember).toMatchObject({ __typename: 'Invite', email: 'new.person@team.test', status: 'PENDING' });
    const days = (Date.parse((first.data!.inviteMember as { expiresAt: string }).expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThanOrEqual(7);
    const again = await t.request(Invite, { input: { organizationId: orgId, email: 'new.person@team.test', role: 'ADMIN' } }, tokens.owner);
    expect(again.data!.inviteMember).toMatchObject({ code: 'CONFLICT' });
  });

  test('inviting an existing member is a CONFLICT, whatever the case of the email', async ({ t, team: { n, orgId, tokens } }) => {
    const result = await t.request(Invite, { input: { organizationId: orgId, email: `MEMBER${n}@TEAM.test`, role: 'ADMIN' } }, tokens.owner);
    expect(result.data!.inviteMember).toMatchObject({ code: 'CONFLICT' });
  });

  test("only the invited email accepts; someone else's invite is NOT_FOUND; a used, revoked or expired invite is a CONFLICT", async ({ t, team: { orgId, tokens } }) => {
    const invite = async (email: string) =>
      ((await t.request(Invite, { input: { organizationId: orgId, email, role: 'MEMBER' } }, tokens.owner)).data!.inviteMember as { id: string }).id;
    const id = await invite('carol@team.test');
    const carol = await t.memberToken('carol@team.test');
    const mallory = await t.memberToken('mallory@team.test');
    expect((await t.request(MyInvites, undefined, carol)).data!.viewer.invites.map((i) => i.id)).toEqual([id]);
    expect((await t.request(MyInvites, undefined, mallory)).data!.viewer.invites).toEqual([]);
    expect((await t.request(Accept, { input: { id } }, mallory)).data!.acceptInvite).toMatchObject({ code: 'NOT_FOUND' });
    expect((await t.request(Accept, { input: { id } }, carol)).data!.acceptInvite).toMatchObject({ role: 'MEMBER', user: { email: 'carol@team.test' } });
    expect((await t.request(Accept, { input: { id } }, carol)).data!.acceptInvite).toMatchObject({ code: 'CONFLICT' });

    const revoked = await invite('dave@team.test');
    expect((await t.request(Revoke, { input: { id: revoked } }, tokens.admin)).data!.revokeInvite).toMatchObject({ status: 'REVOKED' });
    const dave = await t.memberToken('dave@team.test');
    expect((await t.request(Accept, { input: { id: revoked } }, dave)).data!.acceptInvite).toMatchObject({ code: 'CONFLICT' });

    const expired = await invite('erin@team.test');
    // Time passes: nothing in the API moves an expiry, so the test ages the row itself.
    const rowId = Buffer.from(expired, 'base64').toString().split(':')[1]!;
    await t.app.database.prisma.invite.update({ where: { id: rowId }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const erin = await t.memberToken('erin@team.test');
    expect((await t.request(Accept, { input: { id: expired } }, erin)).data!.acceptInvite).toMatchObject({ code: 'CONFLICT' });
    expect((await t.request(OrgInvites, { id: orgId }, tokens.admin)).data!.organization!.invites.edges.map((e) => e.node.email)).toEqual([]);
    const member = await t.request(OrgInvites, { id: orgId }, tokens.member);
    expect(member.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  test('nobody can remove or demote the OWNER (FORBIDDEN); an ADMIN changes other roles, effective on the next request', async ({ t, team: { orgId, tokens, ids } }) => {
    for (const token of [tokens.admin, tokens.owner]) {
      expect((await t.request(UpdateRole, { input: { id: ids.owner!, role: 'MEMBER' } }, token)).data!.updateMemberRole).toMatchObject({ code: 'FORBIDDEN' });
      expect((await t.request(Remove, { input: { id: ids.owner! } }, token)).data!.removeMember).toMatchObject({ code: 'FORBIDDEN' });
    }
    const workspace = { organizationId: orgId, name: 'W', slug: 'promoted' };
    expect((await t.request(CreateWorkspace, { input: workspace }, tokens.member)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.request(UpdateRole, { input: { id: ids.member!, role: 'ADMIN' } }, tokens.admin)).data!.updateMemberRole).toMatchObject({ role: 'ADMIN' });
    expect((await t.request(CreateWorkspace, { input: workspace }, tokens.member)).data!.createWorkspace.__typename).toBe('Workspace');
    expect(await roles(t, orgId, tokens.owner)).toEqual(['ADMIN', 'ADMIN', 'OWNER']);
  });

  test('a removed member loses the organization on its next request', async ({ t, team: { orgId, tokens, ids } }) => {
    expect((await t.request(Remove, { input: { id: ids.member! } }, tokens.admin)).data!.removeMember.__typename).toBe('Deleted');
    expect((await t.request(Org, { id: orgId }, tokens.member)).data!.organization).toBeNull();
  });

  test('transferOwnership keeps exactly one OWNER, even when two transfers race; only the OWNER deletes the organization', async ({ t, team: { orgId, tokens, ids } }) => {
    const [a, b] = await Promise.all([
      t.request(Transfer, { input: { organizationId: orgId, memberId: ids.admin! } }, tokens.owner),
      t.request(Transfer, { input: { organizationId: orgId, memberId: ids.member! } }, tokens.owner),
    ]);
    // Whichever runs second finds its caller no longer OWNER: FORBIDDEN, from the role check
    // if the first had committed before it authenticated, else from the check under the lock.
    const outcome = (r: typeof a) => r.errors?.[0]?.extensions?.code ?? (r.data!.transferOwnership.__typename === 'ForbiddenError' ? 'FORBIDDEN' : r.data!.transferOwnership.__typename);
    expect([outcome(a), outcome(b)].sort()).toEqual(['FORBIDDEN', 'Organization']);
    const after = await roles(t, orgId, tokens.owner);
    expect(after.filter((r) => r === 'OWNER')).toHaveLength(1);
    const newOwner = (await t.request(Org, { id: orgId }, tokens.admin)).data!.organization!.viewerRole === 'OWNER' ? tokens.admin : tokens.member;
    expect((await t.request(DeleteOrg, { input: { id: orgId } }, tokens.owner)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.request(DeleteOrg, { input: { id: orgId } }, newOwner)).data!.deleteOrganization.__typename).toBe('Deleted');
    expect((await t.request(Org, { id: orgId }, newOwner)).data!.organization).toBeNull();
  });

  test('within one document, the role a mutation takes from the caller or gives it holds for the fields after it', async ({ t, team: { orgId, tokens, ids } }) => {
    const TransferThenDelete = graphql(`
      mutation MbTransferThenDelete($transfer: TransferOwnershipInput!, $delete: DeleteOrganizationInput!) {
        transferOwnership(input: $transfer) { __typename ... on Organization { viewerRole } }
        deleteOrganization(input: $delete) { __typename ...ErrorFields }
      }
    `);
    const result = await t.request(TransferThenDelete, { transfer: { organizationId: orgId, memberId: ids.admin! }, delete: { id: orgId } }, tokens.owner);
    // The former OWNER is an ADMIN from the transfer on: it may not delete the organization in the same request.
    expect(result.errors?.map((error) => [error.path, error.extensions?.code])).toEqual([[['deleteOrganization'], 'FORBIDDEN']]);
    expect((await t.request(Org, { id: orgId }, tokens.owner)).data!.organization!.viewerRole).toBe('ADMIN');
    expect((await t.request(Org, { id: orgId }, tokens.admin)).data!.organization!.viewerRole).toBe('OWNER');

    // The same document order, with the transfer's own payload: it already shows the caller as ADMIN.
    const back = await t.request(TransferThenDelete, { transfer: { organizationId: orgId, memberId: ids.owner! }, delete: { id: orgId } }, tokens.admin);
    expect(back.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    const TransferPayload = graphql(`
      mutation MbTransferPayload($input: TransferOwnershipInput!) { transferOwnership(input: $input) { __typename ... on Organization { viewerRole } } }
    `);
    expect((await t.request(TransferPayload, { input: { organizationId: orgId, memberId: ids.admin! } }, tokens.owner)).data?.transferOwnership).toEqual({
      __typename: 'Organization',
      viewerRole: 'ADMIN',
    });
  });

  test('a MEMBER creates connections and manages its own, not the ones others created', async ({ t, team: { orgId, tokens } }) => {
    const workspaceId = await seedWorkspace(t, tokens.owner, orgId, 'conns');
    const base = { scope: 'WORKSPACE', workspaceId, integrationName: 'slack' };
    const own = await seedConnection(t, tokens.member, base);
    const owners = await seedConnection(t, tokens.owner, base);
    expect((await t.request(Rename, { input: { id: own, displayName: 'mine' } }, tokens.member)).data!.renameConnection).toMatchObject({ displayName: 'mine' });
    expect((await t.request(Rename, { input: { id: owners, displayName: 'x' } }, tokens.member)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.request(Rename, { input: { id: own, displayName: 'by admin' } }, tokens.admin)).data!.renameConnection).toMatchObject({ displayName: 'by admin' });
  });
});

describe('audit log', () => {
  test('every mutation is recorded with actor, action, target and outcome; OWNER and ADMIN read it, MEMBER may not', async ({ t, team: { orgId, tokens } }) => {
    const created = await t.request(CreateWorkspace, { input: { organizationId: orgId, name: 'Audited', slug: 'audited' } }, tokens.admin);
    expect(created.data!.createWorkspace.__typename).toBe('Workspace');
    await t.request(CreateWorkspace, { input: { organizationId: orgId, name: 'Bad', slug: 'Not A Slug' } }, tokens.admin);
    await t.request(CreateWorkspace, { input: { organizationId: orgId, name: 'Denied', slug: 'denied' } }, tokens.member);

    const events = (await t.request(Audit, { id: orgId, action: 'createWorkspace' }, tokens.owner)).data!.organization!.auditEvents;
    const adminUser = (await t.request(ViewerUser, undefined, tokens.admin)).data!.viewer.user!.id;
    const memberUser = (await t.request(ViewerUser, undefined, tokens.member)).data!.viewer.user!.id;
    // Newest first.
    expect(events.edges.map((e) => [e.node.outcome, e.node.actorId, e.node.details])).toEqual([
      ['DENIED', memberUser, { code: 'FORBIDDEN' }],
      ['FAILURE', adminUser, { code: 'VALIDATION_ERROR' }],
      ['SUCCESS', adminUser, null],
    ]);
    expect(events.edges[2]!.node).toMatchObject({ actorType: 'USER', targetType: 'Workspace' });
    const workspaceId = (await t.requestRaw<{ organization: { workspaces: { edges: { node: { id: string; slug: string } }[] } } }>(
      'query($id: ID!) { organization(id: $id) { workspaces(first: 10) { edges { node { id slug } } } } }',
      { id: orgId },
      tokens.owner,
    )).data!.organization.workspaces.edges.find((e) => e.node.slug === 'audited')!.node.id;
    expect(events.edges[2]!.node.targetId).toBe(workspaceId);
    expect((await t.request(Audit, { id: orgId }, tokens.admin)).data!.organization!.auditEvents.totalCount).toBeGreaterThanOrEqual(5);
    expect((await t.request(Audit, { id: orgId }, tokens.member)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  test("another tenant's attempts never land in this organization's log, and its own log shows nothing of this one", async ({ t, team: a }) => {
    const b = await makeTeam(t);
    const before = (await t.request(Audit, { id: a.orgId }, a.tokens.owner)).data!.organization!.auditEvents.totalCount;
    const probe = await t.request(CreateWorkspace, { input: { organizationId: a.orgId, name: 'Probe', slug: 'probe' } }, b.tokens.owner);
    expect(probe.data!.createWorkspace).toMatchObject({ code: 'NOT_FOUND' });
    expect((await t.request(Audit, { id: a.orgId }, a.tokens.owner)).data!.organization!.auditEvents.totalCount).toBe(before);
    const bEvents = (await t.request(Audit, { id: b.orgId }, b.tokens.owner)).data!.organization!.auditEvents.edges;
    expect(JSON.stringify(bEvents)).not.toContain(a.orgId);
    expect((await t.request(Audit, { id: a.orgId }, b.tokens.owner)).data!.organization).toBeNull();
  });
});
