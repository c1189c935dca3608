/**
 * ctl's client for members' REST APIs: one request, a 10 s timeout, Basic auth from
 * ctl.authentication (else restapi.authentication), JSON in and out.
 */
import type { Member } from '../../dcs/types.js';
import { CtlError } from './errors.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface RestReply {
  readonly status: number;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  readonly body: unknown;
}

export const REST_TIMEOUT_MS = 10_000;

/** A member's REST base URL: its api_url without the trailing "/patroni". */
export function apiBase(apiUrl: string): string {
  return apiUrl.replace(/\/+$/, '').replace(/\/patroni$/, '');
}

/** The message of a reply: {"error"} / {"message"} / text / JSON. */
export function replyMessage(r: RestReply): string {
  const b = r.body;
  if (typeof b === 'string') return b;
  if (typeof b === 'object' && b !== null) {
    const o = b as Record<string, unknown>;
    if (typeof o['error'] === 'string') return o['error'];
    if (typeof o['message'] === 'string') return o['message'];
  }
  return JSON.stringify(b);
}

export class RestClient {
  constructor(private readonly auth: Credentials | null, private readonly timeoutMs = REST_TIMEOUT_MS) {}

  /**
   * Sends one request to a member. Resolves with any HTTP status; rejects with CtlError when the
   * member cannot be reached (the message names the member and URL, never the credentials).
   */
  async call(member: Member, method: string, path: string, body?: unknown): Promise<RestReply> {
    const base = apiBase(member.data.api_url);
    if (base === '') throw new CtlError(`member ${member.name} publishes no api_url`);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.auth) headers['Authorization'] = `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}`;
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method, headers, signal: AbortSignal.timeout(this.timeoutMs),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (e) {
      const why = e instanceof Error && e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : (e instanceof Error && e.cause instanceof Error ? e.cause.message : String(e));
      throw new CtlError(`cannot reach member ${member.name} at ${base}: ${why}`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = text === '' ? '' : JSON.parse(text); } catch { /* keep the text */ }
    return { status: res.status, body: parsed };
  }
}
