// Structured logs. Authorization headers, connection params and anything that
// looks like a secret field are redacted before a line is written.
import { pino, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'connectionParams.authorization',
  '*.authorization',
  '*.password',
  '*.clientSecret',
  '*.accessToken',
  '*.refreshToken',
  '*.apiKey',
  '*.plainKey',
  '*.token',
  '*.credentials',
  '*.secret',
  'password',
  'clientSecret',
  'accessToken',
  'refreshToken',
  'apiKey',
  'plainKey',
  'token',
  'credentials',
  'secret',
];

export function createLogger(
  level: string,
  destination?: NodeJS.WritableStream,
): Logger {
  const options = {
    level,
    base: { service: 'heddle' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

export type { Logger };
