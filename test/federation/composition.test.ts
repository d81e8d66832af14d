// Heddle's committed subgraph SDL composes with a host product's subgraph under
// a real composer (@theguild/federation-composition, the one Hive Gateway
// uses); a changed entity key breaks the composition, so it cannot slip by.
import { readFileSync } from 'node:fs';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { describe, expect, test } from 'vitest';
import { ACCOUNTS_SDL } from '../support/accounts-subgraph.js';

const HEDDLE_SDL = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
const ENTITIES = ['Organization', 'Workspace', 'EndUser', 'Connection', 'McpServer'];

function compose(heddleSdl: string) {
  return composeServices([
    { name: 'heddle', typeDefs: parse(heddleSdl), url: 'http://heddle.local/graphql' },
    { name: 'accounts', typeDefs: parse(ACCOUNTS_SDL), url: 'http://accounts.local/graphql' },
  ]);
}

describe('composition with a host product subgraph', () => {
  test('composes, with each Heddle entity keyed by id in the supergraph', () => {
    const result = compose(HEDDLE_SDL);
    expect(result.errors ?? []).toEqual([]);
    const supergraph = result.supergraphSdl!;
    for (const entity of ENTITIES) {
      expect(supergraph).toMatch(new RegExp(`type ${entity} implements Node\\s[^{]*@join__type\\(graph: HEDDLE, key: "id"\\)`));
    }
    // The host product's fields land on Heddle's types.
    expect(supergraph).toMatch(/account: Account @join__field\(graph: ACCOUNTS\)/);
    expect(supergraph).toMatch(/plan: String! @join__field\(graph: ACCOUNTS\)/);
    // Subscriptions come from Heddle only.
    expect(supergraph).toMatch(/type Subscription @join__type\(graph: HEDDLE\)/);
  });

  test.each(ENTITIES)('changing the key of %s breaks the composition', (entity) => {
    const declaration = new RegExp(`(type ${entity} implements Node\\s+)@key\\(fields: "id"\\)`);
    expect(HEDDLE_SDL).toMatch(declaration);
    const mutated = HEDDLE_SDL.replace(declaration, '$1@key(fields: "createdAt")');
    const result = compose(mutated);
    expect(result.errors?.length, `composition of a ${entity} keyed by createdAt should fail`).toBeGreaterThan(0);
    // The host's key field no longer matches one of Heddle's: its id is now resolved by both without being a key.
    expect(result.errors!.map((e) => e.message).join('\n')).toContain(`"${entity}.id"`);
  });

  test('PageInfo, defined by both subgraphs, needs @shareable', () => {
    const unshared = HEDDLE_SDL.replace(/(type PageInfo\s+)@shareable/, '$1');
    expect(unshared).not.toEqual(HEDDLE_SDL);
    expect(compose(unshared).errors?.map((e) => e.message).join('\n')).toMatch(/PageInfo/);
  });
});
