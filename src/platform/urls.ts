import { z } from 'zod';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** This machine: where plain http is acceptable (local development and tests). */
export const isLoopbackHost = (hostname: string): boolean => LOOPBACK.has(hostname);

/** An https URL, or http to this machine (local development and tests). */
export const callbackUrlSchema = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  } catch {
    return false;
  }
}, 'must be an https URL (http only to localhost)');
