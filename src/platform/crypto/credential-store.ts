// The credential store: the only code that sees plaintext secrets.
// Envelope encryption with AES-256-GCM: each sealed secret (a connection's, an
// OAuth app's client secret, a connect session's PKCE verifier) has its own
// random data key, wrapped by the newest master key of the versioned key ring.
// Every secret field is sealed separately with associated data naming its
// organization, owning row and field, so a ciphertext copied to another row or
// field fails to open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface ConnectionSecret {
  accessToken?: string;
  refreshToken?: string;
  clientId?: string;
  clientSecret?: string;
  apiKey?: string;
  username?: string;
  password?: string;
  fields?: Record<string, string>;
}

export interface SealedSecret {
  secretCiphertext: Uint8Array<ArrayBuffer>;
  wrappedDataKey: Uint8Array<ArrayBuffer>;
  keyVersion: number;
}

/** What a secret is sealed to: its organization and the row that owns it. */
export type SecretBinding =
  | { organizationId: string; connectionId: string }
  /** An organization's OAuth app, by integration name (one per integration). */
  | { organizationId: string; oauthApp: string }
  | { organizationId: string; connectSessionId: string };

export interface CredentialStore {
  /** The master key version new data keys are wrapped with (the ring's newest). */
  readonly keyVersion: number;
  /** Seals every string (or string map) field of `secret`. */
  seal(binding: SecretBinding, secret: object): SealedSecret;
  open<T extends object = ConnectionSecret>(binding: SecretBinding, sealed: SealedSecret): T;
  /**
   * The same secret with its data key wrapped by the newest master key. The
   * field ciphertexts do not change, so readers holding either version open it.
   */
  rewrap(binding: SecretBinding, sealed: SealedSecret): SealedSecret;
}

const SEALED = { secretCiphertext: true, wrappedDataKey: true } as const;

/**
 * Prisma's global omit (the client is built with it, src/platform/db/database.ts):
 * the sealed columns of every model that has them stay in the database unless
 * a read on the credential path asks for them with `omit: WITH_SEALED_COLUMNS`.
 */
export const SEALED_COLUMNS_OMITTED = { connection: SEALED, oAuthApp: SEALED, connectSession: SEALED } as const;

/** The `omit` of a credential read: the sealed columns too. */
export const WITH_SEALED_COLUMNS = { secretCiphertext: false, wrappedDataKey: false } as const;

/** The columns of a row that hold its sealed secret (null: none stored). */
export interface SealedColumns {
  secretCiphertext: Uint8Array | null;
  wrappedDataKey: Uint8Array | null;
  keyVersion: number | null;
}

/** Opens the secret stored in a row's sealed columns; null when the row holds none. */
export function openSealedColumns<T extends object>(store: CredentialStore, binding: SecretBinding, row: SealedColumns): T | null {
  // Read without them (the global omit), they are undefined rather than null: a bug, not "no secret".
  if (row.secretCiphertext === undefined || row.wrappedDataKey === undefined) {
    throw new Error('the sealed columns were not read: the credential read must ask for them (omit: WITH_SEALED_COLUMNS)');
  }
  if (!row.secretCiphertext || !row.wrappedDataKey || row.keyVersion === null) return null;
  return store.open<T>(binding, {
    secretCiphertext: new Uint8Array(row.secretCiphertext),
    wrappedDataKey: new Uint8Array(row.wrappedDataKey),
    keyVersion: row.keyVersion,
  });
}

/** Opens the secret stored on a connection row. */
export function openConnectionSecret(store: CredentialStore, row: SealedColumns & { id: string; organizationId: string }): ConnectionSecret {
  return openSealedColumns<ConnectionSecret>(store, { organizationId: row.organizationId, connectionId: row.id }, row) ?? {};
}

/** Master keys by version; new data keys are wrapped by the newest. */
export interface KeyRing {
  currentVersion: number;
  keys: ReadonlyMap<number, Buffer>;
}

export class CredentialDecryptionError extends Error {
  override name = 'CredentialDecryptionError';
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

function encrypt(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function decrypt(key: Buffer, sealed: Buffer, aad: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}

function ownerOf(binding: SecretBinding): string {
  if ('connectionId' in binding) return `connection:${binding.connectionId}`;
  if ('oauthApp' in binding) return `oauth-app:${binding.oauthApp}`;
  return `connect-session:${binding.connectSessionId}`;
}

const aadFor = (binding: SecretBinding, part: string) => `heddle/v1|org:${binding.organizationId}|${ownerOf(binding)}|${part}`;

export function createCredentialStore(ring: KeyRing): CredentialStore {
  const masterKey = (version: number) => {
    const key = ring.keys.get(version);
    if (!key) throw new CredentialDecryptionError(`master key version ${version} is not in the key ring`);
    return key;
  };
  const unwrapDataKey = (binding: SecretBinding, sealed: SealedSecret) =>
    decrypt(masterKey(sealed.keyVersion), Buffer.from(sealed.wrappedDataKey), aadFor(binding, 'data-key'));
  const wrapDataKey = (binding: SecretBinding, dataKey: Buffer) =>
    new Uint8Array(encrypt(masterKey(ring.currentVersion), dataKey, aadFor(binding, 'data-key')));
  return {
    keyVersion: ring.currentVersion,
    seal(binding, secret) {
      const dataKey = randomBytes(32);
      const fields: Record<string, string> = {};
      for (const [name, value] of Object.entries(secret)) {
        if (value === undefined) continue;
        const plaintext = Buffer.from(JSON.stringify(value));
        fields[name] = encrypt(dataKey, plaintext, aadFor(binding, `field:${name}`)).toString('base64');
      }
      return {
        secretCiphertext: new Uint8Array(Buffer.from(JSON.stringify(fields))),
        wrappedDataKey: wrapDataKey(binding, dataKey),
        keyVersion: ring.currentVersion,
      };
    },
    open(binding, sealed) {
      try {
        const dataKey = unwrapDataKey(binding, sealed);
        const fields = JSON.parse(Buffer.from(sealed.secretCiphertext).toString()) as Record<string, string>;
        const secret: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(fields)) {
          const plaintext = decrypt(dataKey, Buffer.from(value, 'base64'), aadFor(binding, `field:${name}`));
          secret[name] = JSON.parse(plaintext.toString());
        }
        return secret as never;
      } catch (error) {
        if (error instanceof CredentialDecryptionError) throw error;
        throw new CredentialDecryptionError('stored credentials could not be decrypted for this connection');
      }
    },
    rewrap(binding, sealed) {
      if (sealed.keyVersion === ring.currentVersion) return sealed;
      let dataKey: Buffer;
      try {
        dataKey = unwrapDataKey(binding, sealed);
      } catch (error) {
        if (error instanceof CredentialDecryptionError) throw error;
        throw new CredentialDecryptionError('the data key of this connection could not be unwrapped');
      }
      return { secretCiphertext: sealed.secretCiphertext, wrappedDataKey: wrapDataKey(binding, dataKey), keyVersion: ring.currentVersion };
    },
  };
}

/** Parses HEDDLE_ENCRYPTION_KEYS: comma-separated `version:base64key`, each key 32 bytes. */
export function parseKeyRing(value: string): KeyRing {
  const keys = new Map<number, Buffer>();
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const match = /^(\d+):(.+)$/.exec(entry);
    if (!match) throw new Error('entries must look like <version>:<base64 key>');
    const key = Buffer.from(match[2]!, 'base64');
    if (key.length !== 32) throw new Error(`key version ${match[1]} must be 32 bytes of base64`);
    keys.set(Number(match[1]), key);
  }
  if (keys.size === 0) throw new Error('must list at least one key');
  return { currentVersion: Math.max(...keys.keys()), keys };
}
