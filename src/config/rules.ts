/**
 * Cross-field rules for the local configuration, the ones a per-key schema cannot express.
 *
 * Every rule reads the RAW input (after env overrides), not the parsed config, so that it still runs
 * when zod has rejected some other key: a user sees every problem of a file in one go. Rules skip
 * values of the wrong type; the schema already reports those.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { AddressError, isWildcardHost, parseHostPort, parseListen } from './address.js';
import { DCS_SECTIONS, UNSUPPORTED_DCS_SECTIONS, etcdHosts } from './dcs.js';
import { DEFAULT_TIMING, timingProblem, type Timing } from './dynamic.js';
import { booleanWord } from './fields.js';
import { problemAbout, type Problem } from './problem.js';
import { checkRaftSection } from './raft.js';
import { isPlainObject } from './unknown-keys.js';

type Raw = Record<string, unknown>;

/** The mapping at `key` of `obj`, or an empty one (wrong types are the schema's business). */
function sub(obj: unknown, key: string): Raw {
  const v = isPlainObject(obj) ? obj[key] : undefined;
  return isPlainObject(v) ? v : {};
}

/** An integer as the schema would read it (42 or "42"), else undefined. */
function intOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) return Number(v);
  return undefined;
}

/** Exactly one of etcd, etcd3, consul, raft; no DCS kind we do not implement. */
export function checkDcsSections(raw: Raw): Problem[] {
  const problems: Problem[] = [];
  const expected = `expected exactly one DCS section (one of ${DCS_SECTIONS.join(', ')})`;
  for (const name of UNSUPPORTED_DCS_SECTIONS) {
    if (name in raw) problems.push({ path: name, message: `${name} is not supported; ${expected}`, severity: 'error' });
  }
  const present = DCS_SECTIONS.filter((name) => name in raw);
  if (present.length === 0) {
    problems.push({ path: '', message: `no DCS configured: ${expected}`, severity: 'error' });
  } else if (present.length > 1) {
    problems.push({
      path: present.slice(1).join(','),
      message: `${expected}, but ${present.length} are set: ${present.join(', ')}`,
      severity: 'error',
    });
  }
  for (const name of ['etcd', 'etcd3'] as const) {
    if (name in raw) problems.push(...checkEtcdSection(name, sub(raw, name)));
  }
  return problems;
}

function checkEtcdSection(name: string, section: Raw): Problem[] {
  if (!['host', 'hosts', 'url', 'srv'].some((k) => section[k] !== undefined && section[k] !== null)) {
    return [{ path: name, message: 'expected one of host, hosts, url or srv to say where etcd is', severity: 'error' }];
  }
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const rawHosts = section['hosts'];
  // Only the address syntax is checked here; wrong types are reported by the schema.
  const hosts = typeof rawHosts === 'string' ? rawHosts.split(',')
    : Array.isArray(rawHosts) ? rawHosts.filter((h): h is string => typeof h === 'string') : [];
  try {
    etcdHosts({ hosts: hosts.map((h) => h.trim()).filter(Boolean), host: text(section['host']), url: text(section['url']) });
  } catch (err) {
    if (!(err instanceof AddressError)) throw err;
    return [{ path: name, message: err.message, severity: 'error' }];
  }
  return [];
}

/** Reads the three timing keys of a block, filling defaults; null if one is not an integer. */
function timingOf(block: Raw): Timing | null {
  const ttl = block['ttl'] === undefined ? DEFAULT_TIMING.ttl : intOf(block['ttl']);
  const loopWait = block['loop_wait'] === undefined ? DEFAULT_TIMING.loop_wait : intOf(block['loop_wait']);
  const retry = block['retry_timeout'] === undefined ? DEFAULT_TIMING.retry_timeout : intOf(block['retry_timeout']);
  if (ttl === undefined || loopWait === undefined || retry === undefined) return null;
  return { ttl, loop_wait: loopWait, retry_timeout: retry };
}

/** loop_wait + 2 * retry_timeout <= ttl, for bootstrap.dcs and for the top-level timing keys. */
export function checkTiming(raw: Raw): Problem[] {
  const problems: Problem[] = [];
  const dcs = sub(sub(raw, 'bootstrap'), 'dcs');
  const dcsTiming = timingOf(dcs);
  const dcsBreach = dcsTiming && timingProblem(dcsTiming, 'bootstrap.dcs');
  if (dcsBreach) problems.push(dcsBreach);
  if (['ttl', 'loop_wait', 'retry_timeout'].some((k) => raw[k] !== undefined)) {
    const topTiming = timingOf(raw);
    const topBreach = topTiming && timingProblem(topTiming, '');
    if (topBreach) problems.push(topBreach);
  }
  return problems;
}

/** Parses one address with `parse`, turning an AddressError into a problem at `path`. */
function checkAddress(path: string, value: unknown, parse: (s: string) => void): Problem[] {
  if (typeof value !== 'string' || value === '') return [];
  try {
    parse(value);
    return [];
  } catch (err) {
    if (!(err instanceof AddressError)) throw err;
    return [{ path, value, message: err.message, severity: 'error' }];
  }
}

/** A connect address must name one reachable host, never a wildcard. */
function connectAddress(s: string): void {
  const { host } = parseHostPort(s);
  if (isWildcardHost(host)) throw new AddressError(`expected an address other hosts can connect to, got the wildcard "${host}" in "${s}"`);
}

/** postgresql.listen / connect_address / proxy_address and restapi.listen / connect_address parse. */
export function checkAddresses(raw: Raw): Problem[] {
  const pg = sub(raw, 'postgresql');
  const api = sub(raw, 'restapi');
  const problems = [
    ...checkAddress('postgresql.listen', pg['listen'], parseListen),
    ...checkAddress('postgresql.connect_address', pg['connect_address'], connectAddress),
    ...checkAddress('postgresql.proxy_address', pg['proxy_address'], connectAddress),
    ...checkAddress('restapi.listen', api['listen'], (s) => parseHostPort(s, true)),
    ...checkAddress('restapi.connect_address', api['connect_address'], connectAddress),
  ];
  if (isPlainObject(raw['restapi']) && api['connect_address'] === undefined && typeof api['listen'] === 'string') {
    const wildcard = (() => {
      try {
        return isWildcardHost(parseHostPort(api['listen'] as string, true).host);
      } catch {
        return false; // already reported above
      }
    })();
    problems.push(wildcard
      ? { path: 'restapi.connect_address', message: 'required key is missing: restapi.listen is a wildcard address, so peers need an address "host:port" to reach this node', severity: 'error' }
      : { path: 'restapi.connect_address', message: 'not set; peers and ctl will use restapi.listen to reach this node', severity: 'warning' });
  }
  return problems;
}

/** nofailover and failover_priority disagreeing: Patroni warns and lets nofailover win. */
export function checkTags(raw: Raw): Problem[] {
  const tags = sub(raw, 'tags');
  const nofailover = booleanWord(tags['nofailover']);
  const priority = intOf(tags['failover_priority']);
  if (typeof nofailover !== 'boolean' || priority === undefined) return [];
  if ((nofailover && priority > 0) || (!nofailover && priority === 0)) {
    return [{
      path: 'tags.failover_priority',
      value: priority,
      message: `conflicts with tags.nofailover: ${nofailover}; nofailover wins (this node ${nofailover ? 'never becomes' : 'may become'} primary)`,
      severity: 'warning',
    }];
  }
  return [];
}

/** The programs the agent runs from bin_dir (bin_name may rename them, as the QHB fork does). */
export const REQUIRED_BINARIES = ['pg_ctl', 'initdb', 'pg_basebackup', 'pg_rewind', 'pg_controldata', 'postgres'] as const;

/**
 * postgresql.bin_dir, when set, holds every required program as an executable file. Absent bin_dir
 * is fine: the programs are then looked up on PATH when they are run.
 */
export function checkBinDir(raw: Raw): Problem[] {
  const pg = sub(raw, 'postgresql');
  const dir = pg['bin_dir'];
  if (typeof dir !== 'string' || dir === '') return [];
  const isDir = (() => {
    try {
      return statSync(dir).isDirectory();
    } catch {
      return false;
    }
  })();
  if (!isDir) return [problemAbout('postgresql.bin_dir', dir, 'expected an existing directory holding the PostgreSQL programs', 'error')];
  const names = sub(pg, 'bin_name');
  const missing = REQUIRED_BINARIES.flatMap((bin) => {
    const renamed = names[bin];
    const file = typeof renamed === 'string' && renamed !== '' ? renamed : bin;
    try {
      accessSync(join(dir, file), constants.X_OK);
      return statSync(join(dir, file)).isFile() ? [] : [file === bin ? bin : `${bin} (${file})`];
    } catch {
      return [file === bin ? bin : `${bin} (${file})`];
    }
  });
  if (missing.length === 0) return [];
  return [{
    path: 'postgresql.bin_dir',
    value: dir,
    message: `expected a directory holding the PostgreSQL programs, but these are missing or not executable in "${dir}": ${missing.join(', ')}`,
    severity: 'error',
  }];
}

export interface RuleOptions {
  /** Check that postgresql.bin_dir holds the programs (default true; tests of other hosts turn it off). */
  readonly checkBinaries?: boolean;
}

/** All cross-field rules on raw (env-applied) input. */
export function checkRules(raw: Raw, opts: RuleOptions = {}): Problem[] {
  return [
    ...checkDcsSections(raw),
    ...checkTiming(raw),
    ...checkAddresses(raw),
    ...checkTags(raw),
    ...checkRaftSection(raw),
    ...(opts.checkBinaries === false ? [] : checkBinDir(raw)),
  ];
}
