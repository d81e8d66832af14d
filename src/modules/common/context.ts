// The per-request (or per-websocket-operation) context every resolver sees.
import type { Principal } from '../../auth/principal.js';
import type { Config } from '../../platform/config.js';
import type { ApiKeyUsage } from '../../auth/api-key-usage.js';
import type { PrincipalCache } from '../../auth/principal-cache.js';
import type { CredentialStore } from '../../platform/crypto/credential-store.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { Logger } from '../../platform/logger.js';
import type { TokenRefresher } from '../oauth/token-refresher.js';
import type { Outbox } from '../../platform/outbox.js';
import type { PubSubHandle } from '../../platform/pubsub.js';
import type { ResponseCache } from '../../platform/response-cache.js';

/** What lives for the whole process and is shared by every request. */
export interface Services {
  config: Config;
  prisma: PrismaClient;
  pubsub: PubSubHandle;
  outbox: Outbox;
  credentials: CredentialStore;
  refresher: TokenRefresher;
  apiKeyUsage: ApiKeyUsage;
  /** Principals authenticated recently; services announce the changes that make them stale. */
  principals: PrincipalCache;
  logger: Logger;
  /** The GraphQL response cache, told of every committed write; null when HEDDLE_RESPONSE_CACHE=off. */
  responseCache: ResponseCache | null;
  /** Heddle's public base URL without a trailing slash: HEDDLE_PUBLIC_URL, else http://localhost:{bound port}. */
  publicUrl(): string;
}

export interface Context extends Services {
  principal: Principal;
}
