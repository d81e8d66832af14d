// The audit log, read by an organization's OWNERs and ADMINs (and org-wide
// API keys, which act as ADMIN), newest first.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../common/builder.js';
import { orgRole } from '../common/scopes.js';

const ActorTypeEnum = builder.enumType('AuditActorType', { values: ['USER', 'API_KEY', 'END_USER', 'SYSTEM'] as const });
const AuditOutcomeEnum = builder.enumType('AuditOutcome', { values: ['SUCCESS', 'FAILURE', 'DENIED'] as const });

/** The node type each actor type's id belongs to. */
const ACTOR_NODE = { USER: 'User', API_KEY: 'ApiKey', END_USER: 'EndUser' } as const;

builder.prismaObject('AuditEvent', {
  fields: (t) => ({
    id: t.exposeID('id'),
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    actorType: t.expose('actorType', { type: ActorTypeEnum }),
    actorId: t.field({
      type: 'ID',
      nullable: true,
      description: 'Global id of the User, ApiKey or EndUser that acted.',
      resolve: (event) => (event.actorId && event.actorType !== 'SYSTEM' ? encodeGlobalID(ACTOR_NODE[event.actorType], event.actorId) : null),
    }),
    action: t.exposeString('action', { description: 'The mutation name, or a named read such as connection.credentials.read.' }),
    targetType: t.exposeString('targetType', { nullable: true }),
    targetId: t.exposeString('targetId', { nullable: true, description: 'Global id of the target.' }),
    outcome: t.expose('outcome', { type: AuditOutcomeEnum }),
    details: t.expose('details', { type: 'JSON', nullable: true }),
  }),
});

builder.prismaObjectFields('Organization', (t) => ({
  auditEvents: t.relatedConnection('auditEvents', {
    cursor: 'id',
    totalCount: true,
    authScopes: orgRole('ADMIN'),
    args: { action: t.arg.string({ description: 'Only events of this action.' }) },
    // uuidv7 ids grow with time: ordering by id is ordering by occurrence.
    query: (args) => ({ where: args.action ? { action: args.action } : {}, orderBy: { id: 'desc' } }),
  }),
}));
