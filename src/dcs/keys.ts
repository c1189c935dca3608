/**
 * The only place that knows Patroni's DCS key names (shared/reference/dcs-layout.md §1.1).
 * Base path: /<namespace>/<scope>/, repeated slashes collapsed.
 */
export const LEADER = 'leader';
export const INITIALIZE = 'initialize';
export const CONFIG = 'config';
export const FAILOVER = 'failover';
export const SYNC = 'sync';
export const HISTORY = 'history';
export const STATUS = 'status';
export const FAILSAFE = 'failsafe';
export const OPTIME_LEADER = 'optime/leader';
export const MEMBERS = 'members/';

export function clusterPrefix(namespace: string, scope: string): string {
  return `/${namespace}/${scope}/`.replace(/\/+/g, '/');
}

export class ClusterKeys {
  constructor(readonly prefix: string) {}
  static of(namespace: string, scope: string): ClusterKeys {
    return new ClusterKeys(clusterPrefix(namespace, scope));
  }
  get leader(): string { return this.prefix + LEADER; }
  get initialize(): string { return this.prefix + INITIALIZE; }
  get config(): string { return this.prefix + CONFIG; }
  get failover(): string { return this.prefix + FAILOVER; }
  get sync(): string { return this.prefix + SYNC; }
  get history(): string { return this.prefix + HISTORY; }
  get status(): string { return this.prefix + STATUS; }
  get failsafe(): string { return this.prefix + FAILSAFE; }
  get membersDir(): string { return this.prefix + MEMBERS; }
  member(name: string): string { return this.prefix + MEMBERS + name; }
  /** The key relative to the cluster prefix, or null when it is outside it. */
  relative(key: string): string | null {
    return key.startsWith(this.prefix) ? key.slice(this.prefix.length) : null;
  }
}

/**
 * Patroni's slot_name_from_member_name: lower-case, '-' and '.' become '_', any other character
 * outside [a-z0-9_] becomes u%04d of its (decimal) code point, truncated to 63 characters.
 */
export function slotNameFromMemberName(name: string): string {
  let out = '';
  for (const ch of name.toLowerCase()) {
    if (/[a-z0-9_]/.test(ch)) out += ch;
    else if (ch === '-' || ch === '.') out += '_';
    else out += 'u' + String(ch.codePointAt(0) ?? 0).padStart(4, '0');
  }
  return out.slice(0, 63);
}
