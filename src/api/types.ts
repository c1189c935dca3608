/**
 * The router's vocabulary: a parsed request, a response value, and the handler and guard shapes.
 * Handlers return values; only server.ts writes to the socket, so every handler is testable as a
 * function and no handler can leave a response half-written.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ApiBackend } from './backend.js';

export interface ApiRequest {
  /** Upper-case method as received (HEAD and OPTIONS are answered by GET handlers, without a body). */
  readonly method: string;
  /** Path without the query string, trailing slashes removed ("/" stays "/"). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body for routes that take one; undefined when absent. */
  readonly body: unknown;
  readonly remoteAddress: string;
}

export interface ApiResponse {
  readonly status: number;
  /** Serialised as JSON unless `text` is set. Ignored for HEAD/OPTIONS. */
  readonly json?: unknown;
  /** A non-JSON body (Prometheus metrics) with its content type. */
  readonly text?: { readonly contentType: string; readonly body: string };
  readonly headers?: Readonly<Record<string, string>>;
}

export interface HandlerContext {
  readonly backend: ApiBackend;
}

export type Handler = (req: ApiRequest, ctx: HandlerContext) => ApiResponse | Promise<ApiResponse>;

/**
 * A check run before a mutating handler, in order (Patroni's check_access: allowlist, client
 * certificate, then credentials). Returns a refusal, or null to let the request through. Guards see
 * the request before its body is read, so a refused client cannot make us buffer its body.
 */
export type Guard = (req: Omit<ApiRequest, 'body'>) => ApiResponse | null;

/** How a route treats the request body. */
export type BodyRule = 'none' | 'optional' | 'required';

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Exact path, or a prefix ending in "/*" matching one more segment (e.g. "/jobs/*"). */
  readonly path: string;
  readonly body: BodyRule;
  readonly handler: Handler;
}

/** A JSON error response: {"error": message}. */
export function errorResponse(status: number, message: string, headers?: Readonly<Record<string, string>>): ApiResponse {
  return headers ? { status, json: { error: message }, headers } : { status, json: { error: message } };
}

/** A request a client got wrong; server.ts turns it into `status` with {"error": message}. */
export class RequestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = new.target.name;
  }
}
