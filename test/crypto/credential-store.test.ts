import { randomBytes } from 'node:crypto';
import { expect, test } from 'vitest';
import { createCredentialStore, CredentialDecryptionError, parseKeyRing } from '../../src/platform/crypto/credential-store.js';

const key = () => randomBytes(32).toString('base64');
const binding = { organizationId: 'org-1', connectionId: 'conn-1' };
const secret = { accessToken: 'access-canary', refreshToken: 'refresh-canary', fields: { domain: 'acme' } };

test('sealed secrets contain no plaintext and open to the same value', () => {
  const store = createCredentialStore(parseKeyRing(`1:${key()}`));
  const sealed = store.seal(binding, secret);
  const stored = Buffer.concat([Buffer.from(sealed.secretCiphertext), Buffer.from(sealed.wrappedDataKey)]).toString('latin1');
  expect(stored).not.toContain('canary');
  expect(store.open(binding, sealed)).toEqual(secret);
});

test('a ciphertext is bound to its organization, connection and field', () => {
  const store = createCredentialStore(parseKeyRing(`1:${key()}`));
  const sealed = store.seal(binding, secret);
  expect(() => store.open({ ...binding, connectionId: 'conn-2' }, sealed)).toThrow(CredentialDecryptionError);
  expect(() => store.open({ ...binding, organizationId: 'org-2' }, sealed)).toThrow(CredentialDecryptionError);
  // Swapping two fields' ciphertexts inside the row does not decrypt either.
  const fields = JSON.parse(Buffer.from(sealed.secretCiphertext).toString()) as Record<string, string>;
  const swapped = { ...fields, accessToken: fields.refreshToken!, refreshToken: fields.accessToken! };
  const tampered = { ...sealed, secretCiphertext: new Uint8Array(Buffer.from(JSON.stringify(swapped))) };
  expect(() => store.open(binding, tampered)).toThrow(CredentialDecryptionError);
});

test('new secrets use the newest master key; older versions stay readable while they are in the ring', () => {
  const v1 = key();
  const old = createCredentialStore(parseKeyRing(`1:${v1}`)).seal(binding, secret);
  const rotated = createCredentialStore(parseKeyRing(`1:${v1},2:${key()}`));
  expect(rotated.seal(binding, secret).keyVersion).toBe(2);
  expect(rotated.open(binding, old)).toEqual(secret);
  const withoutV1 = createCredentialStore(parseKeyRing(`2:${key()}`));
  expect(() => withoutV1.open(binding, old)).toThrow(/version 1/);
});

test('malformed key rings are refused', () => {
  expect(() => parseKeyRing('')).toThrow(/at least one key/);
  expect(() => parseKeyRing('one:abc')).toThrow(/version/);
  expect(() => parseKeyRing(`1:${randomBytes(16).toString('base64')}`)).toThrow(/32 bytes/);
});

test('rewrap moves a data key to the newest master key without touching the field ciphertexts', () => {
  const v1 = key();
  const v2 = key();
  const sealed = createCredentialStore(parseKeyRing(`1:${v1}`)).seal(binding, secret);
  const rewrapped = createCredentialStore(parseKeyRing(`1:${v1},2:${v2}`)).rewrap(binding, sealed);
  expect(rewrapped.keyVersion).toBe(2);
  expect(rewrapped.secretCiphertext).toBe(sealed.secretCiphertext);
  // Readers still on ring {1} open the old row; ring {2} alone opens the new one.
  expect(createCredentialStore(parseKeyRing(`1:${v1}`)).open(binding, sealed)).toEqual(secret);
  expect(createCredentialStore(parseKeyRing(`2:${v2}`)).open(binding, rewrapped)).toEqual(secret);
  // The wrapped key stays bound to its connection.
  expect(() => createCredentialStore(parseKeyRing(`2:${v2}`)).open({ ...binding, connectionId: 'conn-2' }, rewrapped)).toThrow(
    CredentialDecryptionError,
  );
  expect(() => createCredentialStore(parseKeyRing(`2:${v2}`)).rewrap(binding, sealed)).toThrow(/version 1/);
});
