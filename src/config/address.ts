/**
 * Address strings as Patroni writes them.
 *
 * - `postgresql.listen`: "host[,host...]:port", e.g. "127.0.0.1,10.0.0.4,::1:5432". The LAST colon
 *   separates the port, so bare IPv6 addresses may appear in the host list; "[::1]:5432" works too.
 * - connect addresses and `restapi.listen`: one "host:port" (or "[v6]:port").
 */
import { isIP } from 'node:net';

/** A malformed address string; the message says what was expected. */
export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface ListenAddress {
  /** Hosts without brackets; '*' means every interface (as in listen_addresses). */
  readonly hosts: string[];
  readonly port: number;
}

export interface HostPort {
  /** Host without brackets; '' means every interface (only meaningful for a listen address). */
  readonly host: string;
  readonly port: number;
}

/** Host names and IPv4 addresses; IPv6 is checked with node:net. */
const HOSTNAME_RE = /^[A-Za-z0-9_.-]+$/;

/** A host name, an IPv4 or IPv6 address (IPv6 may carry a %zone), or the '*' wildcard. */
function isHost(host: string): boolean {
  if (host === '*' || HOSTNAME_RE.test(host)) return true;
  return isIP(host.replace(/%[A-Za-z0-9_.-]+$/, '')) === 6;
}

function parsePort(text: string, whole: string, form: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new AddressError(`expected ${form} with a port number 1-65535, got port "${text}" in "${whole}"`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw new AddressError(`expected ${form} with a port number 1-65535, got port ${port} in "${whole}"`);
  return port;
}

function cleanHost(raw: string, whole: string, form: string): string {
  const host = raw.trim().replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new AddressError(`expected ${form}, got an empty host in "${whole}"`);
  if (!isHost(host)) throw new AddressError(`expected ${form}, got a bad host "${raw.trim()}" in "${whole}"`);
  return host;
}

/** Splits "hosts:port" at the last colon; throws AddressError when there is no colon. */
function splitPort(text: string, form: string): [string, string] {
  const at = text.lastIndexOf(':');
  if (at < 0) throw new AddressError(`expected ${form}, got "${text}" (no ":port")`);
  return [text.slice(0, at), text.slice(at + 1)];
}

/**
 * Parses `postgresql.listen`: "127.0.0.1,::1:5432" -> { hosts: ['127.0.0.1', '::1'], port: 5432 }.
 * Throws AddressError naming the problem.
 */
export function parseListen(text: string): ListenAddress {
  const form = '"host[,host...]:port"';
  const [hostPart, portPart] = splitPort(text.trim(), form);
  const port = parsePort(portPart, text, form);
  const hosts = hostPart.split(',').map((h) => cleanHost(h, text, form));
  return { hosts, port };
}

/**
 * Parses one "host:port" ("[::1]:8008" and "::1:8008" both give host "::1").
 * `allowEmptyHost` accepts ":8008" (every interface), which only makes sense for a listen address.
 * Throws AddressError naming the problem.
 */
export function parseHostPort(text: string, allowEmptyHost = false): HostPort {
  const form = '"host:port"';
  const trimmed = text.trim();
  const [hostPart, portPart] = splitPort(trimmed, form);
  const port = parsePort(portPart, text, form);
  if (hostPart.includes(',')) throw new AddressError(`expected ${form} with a single host, got "${text}"`);
  const host = hostPart === '' ? '' : cleanHost(hostPart, text, form);
  if (host === '' && !allowEmptyHost) throw new AddressError(`expected ${form}, got an empty host in "${text}"`);
  return { host, port };
}

/** Formats a host and port, bracketing IPv6 hosts: ("::1", 5432) -> "[::1]:5432". */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** True for addresses that mean "every interface" and so cannot be connected to. */
export function isWildcardHost(host: string): boolean {
  return host === '' || host === '*' || host === '0.0.0.0' || host === '::';
}
