/**
 * Which DCS a configuration selects, and its endpoints in one normalised form.
 *
 * `etcd` and `etcd3` both select the etcd v3 API: Patroni's `etcd` section spoke the v2 API, which
 * etcd 3.4+ no longer serves by default, and the QHB example configs use `etcd`.
 */
import { formatHostPort, parseHostPort } from './address.js';
import type { Config, EtcdConfig } from './schema.js';

/** Sections that select a DCS; exactly one must be present (checked in rules.ts). */
export const DCS_SECTIONS = ['etcd', 'etcd3', 'consul', 'raft'] as const;
/** Patroni DCS kinds this orchestrator does not implement. */
export const UNSUPPORTED_DCS_SECTIONS = ['zookeeper', 'exhibitor', 'kubernetes'] as const;

export type DcsKind = 'etcd3' | 'consul' | 'raft';

const ETCD_DEFAULT_PORT = 2379;

/**
 * The DCS kind a valid configuration selects. Throws if none is configured; loadConfig never returns
 * such a config, so this only fires for hand-built objects.
 */
export function dcsKind(config: Pick<Config, 'etcd' | 'etcd3' | 'consul' | 'raft'>): DcsKind {
  if (config.etcd3 || config.etcd) return 'etcd3';
  if (config.consul) return 'consul';
  if (config.raft) return 'raft';
  throw new Error('configuration has no DCS section (expected one of etcd, etcd3, consul, raft)');
}

/** The etcd section in use (`etcd3` preferred over `etcd`), or undefined. */
export function etcdSection(config: Pick<Config, 'etcd' | 'etcd3'>): EtcdConfig | undefined {
  return config.etcd3 ?? config.etcd;
}

/** "http://h:2379/" or "h:2379" or "h" -> "h:2379" (IPv6 hosts bracketed). Throws AddressError. */
function endpoint(text: string): string {
  const withoutScheme = text.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/.*$/, '');
  // A bare host (no port) gets etcd's client port; "[v6]" without a port too.
  const hasPort = /^\[.*\]:\d+$/.test(withoutScheme) || (/:\d+$/.test(withoutScheme) && !withoutScheme.startsWith('['));
  const hostPort = hasPort ? parseHostPort(withoutScheme) : { host: withoutScheme.replace(/^\[(.*)\]$/, '$1'), port: ETCD_DEFAULT_PORT };
  return formatHostPort(hostPort.host, hostPort.port);
}

/**
 * The etcd endpoints as "host:port" strings, from `hosts` (list or comma string), else `host`, else
 * `url` (comma-separated URLs allowed). Empty when only `srv` is given: the DNS lookup is the
 * adapter's job. Throws AddressError on a malformed entry (rules.ts reports it as a config error).
 */
export function etcdHosts(section: Pick<EtcdConfig, 'hosts' | 'host' | 'url'>): string[] {
  if (section.hosts && section.hosts.length > 0) return section.hosts.map(endpoint);
  if (section.host) return [endpoint(section.host)];
  if (section.url) return section.url.split(',').filter((u) => u.trim() !== '').map(endpoint);
  return [];
}

/** The scheme etcd should be reached with: `protocol`, else the url's scheme, else https when a CA is set. */
export function etcdProtocol(section: EtcdConfig): 'http' | 'https' {
  if (section.protocol) return section.protocol;
  if (section.url?.trim().toLowerCase().startsWith('https://')) return 'https';
  return section.cacert || section.cert ? 'https' : 'http';
}
