/**
 * The `consul:` configuration section -> adapter connection settings, following Patroni's rules:
 * `url` wins over `host`/`port`/`scheme`; `host` may carry its own port ("10.0.0.1:8500"); the
 * scheme is https when `scheme: https`, when the url says so, or when client TLS files are given.
 */
import { readFileSync } from 'node:fs';
import type { ConsulConfig } from '../../config/index.js';
import type { DcsOptions } from '../port.js';
import type { ConsulOptions } from './adapter.js';

const DEFAULT_PORT = 8500;

function readPem(key: string, path: string | undefined): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`consul.${key}: cannot read ${JSON.stringify(path)}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
}

/** Host, port and scheme from host/url/port/scheme. Throws Error naming the key for a bad value. */
export function consulEndpoint(section: Pick<ConsulConfig, 'host' | 'url' | 'port' | 'scheme' | 'cert' | 'cacert'>): { host: string; port: number; scheme: 'http' | 'https' } {
  if (section.url) {
    let u: URL;
    try { u = new URL(section.url); } catch (e) {
      throw new Error(`consul.url: expected a URL such as http://127.0.0.1:8500, got ${JSON.stringify(section.url)}`, { cause: e });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`consul.url: expected an http or https URL, got ${JSON.stringify(section.url)}`);
    return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port || (u.protocol === 'https:' ? 443 : DEFAULT_PORT)), scheme: u.protocol === 'https:' ? 'https' : 'http' };
  }
  const text = section.host.trim();
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  if (!m) throw new Error(`consul.host: expected "host" or "host:port", got ${JSON.stringify(section.host)}`);
  const port = section.port ?? (m[2] ? Number(m[2]) : DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`consul.host: expected a port 1-65535, got ${JSON.stringify(section.host)}`);
  const scheme = section.scheme ?? (section.cert || section.cacert ? 'https' : 'http');
  return { host: m[1]!, port, scheme };
}

export type ConsulSectionSettings = Omit<ConsulOptions, keyof DcsOptions | 'onDataWarning'>;

/** Everything the adapter needs from the section (the DcsOptions part comes from the caller). Throws Error naming the key. */
export function consulSettings(section: ConsulConfig): ConsulSectionSettings {
  const ep = consulEndpoint(section);
  const cacert = readPem('cacert', section.cacert);
  const cert = readPem('cert', section.cert);
  const key = readPem('key', section.key);
  return {
    ...ep,
    ...(section.token ? { token: section.token } : {}),
    ...(section.dc ? { dc: section.dc } : {}),
    ...(section.verify !== undefined ? { verify: section.verify } : {}),
    ...(cacert ? { cacert } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(section.consistency ? { consistency: section.consistency } : {}),
    checks: section.checks,
    registerService: section.register_service,
    ...(section.service_tags ? { serviceTags: section.service_tags } : {}),
    serviceCheckInterval: section.service_check_interval,
    ...(section.service_check_tls_server_name ? { serviceCheckTlsServerName: section.service_check_tls_server_name } : {}),
  };
}
