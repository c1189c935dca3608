/**
 * Maps (method, path) to a route. HEAD and OPTIONS are answered by a path's GET route (HAProxy
 * polls with OPTIONS). Guards run, in order, before every mutating route; auth is one guard, and an
 * allowlist or a client-certificate check would be others, placed before it as in Patroni.
 */
import type { Guard, Route } from './types.js';

export const MUTATING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', ...MUTATING_METHODS]);

export type RouteMatch =
  | { readonly kind: 'route'; readonly route: Route; readonly guards: readonly Guard[] }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'method-not-allowed'; readonly allow: readonly string[] };

/** Removes trailing slashes ("/primary/" is "/primary"), keeping "/" itself. */
export function normalizePath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

function pathMatches(pattern: string, path: string): boolean {
  if (!pattern.endsWith('/*')) return pattern === path;
  const prefix = pattern.slice(0, -1); // keep the slash: "/jobs/"
  return path.startsWith(prefix) && path.length > prefix.length && !path.slice(prefix.length).includes('/');
}

export class Router {
  private readonly routes: readonly Route[];
  private readonly guards: readonly Guard[];

  /** @param guards checks run in order before every POST/PUT/PATCH/DELETE route */
  constructor(routes: readonly Route[], guards: readonly Guard[] = []) {
    this.routes = routes;
    this.guards = guards;
  }

  match(method: string, path: string): RouteMatch {
    const onPath = this.routes.filter((r) => pathMatches(r.path, path));
    // Exact paths before patterns, so a future exact route is never shadowed by a "/x/*" one.
    onPath.sort((a, b) => Number(a.path.endsWith('/*')) - Number(b.path.endsWith('/*')));
    if (onPath.length === 0) return KNOWN_METHODS.has(method) ? { kind: 'not-found' } : { kind: 'method-not-allowed', allow: [] };
    const wanted = method === 'HEAD' || method === 'OPTIONS' ? 'GET' : method;
    const route = onPath.find((r) => r.method === wanted);
    if (!route) {
      const allow = [...new Set(onPath.flatMap((r) => (r.method === 'GET' ? ['GET', 'HEAD', 'OPTIONS'] : [r.method])))];
      return { kind: 'method-not-allowed', allow };
    }
    return { kind: 'route', route, guards: MUTATING_METHODS.has(route.method) ? this.guards : [] };
  }
}
