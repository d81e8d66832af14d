// Structured logs (pino). Every line passes through `redactSecrets`: values
// under secret-looking keys (authorization, tokens, passwords, credentials…)
// are replaced at any depth, so no caller can leak one by logging an object.
import { pino, type Logger } from 'pino';

const SECRET_KEYS = new Set(
  [
    'authorization',
    'cookie',
    'password',
    'secret',
    'clientSecret',
    'accessToken',
    'refreshToken',
    'apiKey',
    'plainKey',
    'token',
    'credentials',
    'connectionParams',
  ].map((k) => k.toLowerCase()),
);

export const REDACTED = '[redacted]';

export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEYS.has(key.toLowerCase()) ? REDACTED : redactSecrets(item, depth + 1);
  }
  return out;
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'heddle' },
    formatters: { log: (object) => redactSecrets(object) as Record<string, unknown> },
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

export type { Logger };
