/**
 * Access control for mutating requests (Patroni's check_access, step 3: Basic credentials).
 * Further checks (allowlist, TLS client certificates) are more Guards placed before this one.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { errorResponse, type Guard } from './types.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** Realm sent in WWW-Authenticate. */
export const REALM = 'orchestrator';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Compares an Authorization header with the expected credentials in constant time: both sides are
 * hashed to equal-length digests first, so neither the content nor the length of the secret leaks
 * through timing.
 */
export function checkBasicAuth(header: string | undefined, creds: Credentials): 'ok' | 'missing' | 'wrong' {
  if (header === undefined || header.trim() === '') return 'missing';
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  const given = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
  const ok = timingSafeEqual(digest(given), digest(`${creds.username}:${creds.password}`));
  return ok && m ? 'ok' : 'wrong';
}

/** A Guard refusing requests without the right Basic credentials (401, never echoing what was sent). */
export function basicAuthGuard(creds: Credentials): Guard {
  const challenge = { 'WWW-Authenticate': `Basic realm="${REALM}"` };
  return (req) => {
    const raw = req.headers.authorization;
    const result = checkBasicAuth(Array.isArray(raw) ? raw[0] : raw, creds);
    if (result === 'ok') return null;
    return errorResponse(401, result === 'missing' ? 'no auth header received' : 'not authenticated', challenge);
  };
}
