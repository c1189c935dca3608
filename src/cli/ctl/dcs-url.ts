/**
 * `--dcs-url` parsing (patronictl's -d/--dcs-url): "[SCHEME://]HOST[:PORT][,HOST[:PORT]...][/NAMESPACE]".
 * Only etcd is implemented (schemes etcd and etcd3 both speak the v3 API here); the other schemes
 * patronictl knows are refused with a message naming them.
 */
import { formatHostPort, parseHostPort } from '../../config/index.js';
import { usage } from './errors.js';

export interface DcsUrl {
  readonly kind: 'etcd3';
  /** "host:port" entries. */
  readonly hosts: readonly string[];
  /** Namespace with leading and trailing slash, or undefined when the URL has no path. */
  readonly namespace?: string;
}

const ETCD_PORT = 2379;
const UNSUPPORTED: Readonly<Record<string, string>> = { consul: 'Consul', zookeeper: 'ZooKeeper', exhibitor: 'Exhibitor', kubernetes: 'Kubernetes' };

function hostPort(text: string, whole: string): string {
  const t = text.trim();
  if (t === '') throw usage(`--dcs-url: expected HOST[:PORT] entries, got an empty host in "${whole}"`);
  const hasPort = /^\[.*\]:\d+$/.test(t) || (/^[^[\]:]+:\d+$/.test(t));
  try {
    const hp = hasPort ? parseHostPort(t) : parseHostPort(`${t.replace(/^\[(.*)\]$/, '[$1]')}:${ETCD_PORT}`);
    return formatHostPort(hp.host, hp.port);
  } catch (e) {
    throw usage(`--dcs-url: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Parses a DCS URL; throws a usage CtlError naming the problem. */
export function parseDcsUrl(text: string): DcsUrl {
  const m = /^(?:([a-z0-9]+):\/\/)?([^/]*)(\/.*)?$/i.exec(text.trim());
  if (!m) throw usage(`--dcs-url: expected [etcd3://]HOST:PORT[/NAMESPACE], got "${text}"`);
  const scheme = (m[1] ?? 'etcd3').toLowerCase();
  if (UNSUPPORTED[scheme]) throw usage(`--dcs-url: ${UNSUPPORTED[scheme]} is not supported by ctl yet; use etcd3://HOST:PORT`);
  if (scheme !== 'etcd' && scheme !== 'etcd3') throw usage(`--dcs-url: unknown scheme "${scheme}"; expected etcd3:// (or etcd://)`);
  const hosts = (m[2] ?? '').split(',').map((h) => hostPort(h, text));
  const path = (m[3] ?? '').replace(/\/+$/, '');
  return { kind: 'etcd3', hosts, ...(path ? { namespace: `${path}/` } : {}) };
}
