/**
 * Reading ctl's configuration file. An agent's full YAML works (validated like the agent's, minus
 * the PostgreSQL binaries check). So does a short ctl-only file, as patronictl allows: scope,
 * namespace, an etcd/etcd3 section, and ctl.authentication (or restapi.authentication). The short
 * form is used only when the full validation fails; then the keys ctl needs are checked one by one.
 */
import { readFileSync, statSync } from 'node:fs';
import yaml from 'js-yaml';
import { loadConfig, type Config } from '../../config/index.js';
import { CtlError } from './errors.js';
import type { Credentials } from './rest.js';

/** The part of the configuration ctl uses. */
export interface CtlConfig {
  readonly scope?: string;
  readonly namespace: string;
  readonly name?: string;
  readonly etcd3?: Config['etcd3'];
  readonly auth: Credentials | null;
  /** The configuration has a raft: section: the built-in DCS lives inside the agents, reached over REST. */
  readonly raft?: boolean;
  /** The local agent's REST base URL ("http://host:port"), from restapi.connect_address or listen. */
  readonly restApi?: string;
}

/** "http://host:port" for a restapi address; a wildcard listen host means this machine. */
export function restBase(address: unknown, tls: boolean): string | undefined {
  if (typeof address !== 'string' || address.trim() === '') return undefined;
  const a = address.trim().replace(/^(\*|0\.0\.0\.0|::|\[::\])?:(\d+)$/, (_m, _h, port: string) => `127.0.0.1:${port}`);
  return `${tls ? 'https' : 'http'}://${a}`;
}

function restOf(restapi: Record<string, unknown>): string | undefined {
  const tls = typeof restapi['certfile'] === 'string';
  return restBase(restapi['connect_address'], tls) ?? restBase(restapi['listen'], tls);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function credentials(v: unknown, where: string): Credentials | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw new CtlError(`${where}: expected a mapping with username and password`);
  const username = typeof v['username'] === 'number' ? String(v['username']) : v['username'];
  const password = typeof v['password'] === 'number' ? String(v['password']) : v['password'];
  // Never echo the values: they are secrets.
  if (typeof username !== 'string' || typeof password !== 'string') throw new CtlError(`${where}: expected string username and password`);
  return { username, password };
}

function normalizeNamespace(ns: string): string {
  return `${ns.startsWith('/') ? '' : '/'}${ns}${ns.endsWith('/') ? '' : '/'}`;
}

/** The short, ctl-only form; throws CtlError naming the first bad key. */
function readShortForm(path: string, fullErrors: string[]): CtlConfig {
  let raw: unknown;
  try {
    raw = yaml.load(readFileSync(path, 'utf8'));
  } catch {
    throw new CtlError(`invalid configuration file ${path}:\n  ${fullErrors.join('\n  ')}`);
  }
  if (!isObject(raw)) throw new CtlError(`invalid configuration file ${path}: expected a YAML mapping`);
  const etcd = raw['etcd3'] ?? raw['etcd'];
  if (etcd !== undefined && !isObject(etcd)) throw new CtlError(`${path}: etcd3: expected a mapping with hosts`);
  if (etcd === undefined && raw['consul'] !== undefined) {
    throw new CtlError(`${path}: ctl can only reach etcd or the built-in raft DCS so far (found consul)`);
  }
  if (raw['scope'] !== undefined && typeof raw['scope'] !== 'string') throw new CtlError(`${path}: scope: expected a cluster name`);
  if (raw['namespace'] !== undefined && typeof raw['namespace'] !== 'string') throw new CtlError(`${path}: namespace: expected a key prefix such as "/service/"`);
  const ctl = isObject(raw['ctl']) ? raw['ctl'] : {};
  const restapi = isObject(raw['restapi']) ? raw['restapi'] : {};
  return {
    ...(typeof raw['scope'] === 'string' ? { scope: raw['scope'] } : {}),
    namespace: normalizeNamespace(typeof raw['namespace'] === 'string' ? raw['namespace'] : '/service/'),
    ...(etcd ? { etcd3: etcd as Config['etcd3'] } : {}),
    auth: credentials(ctl['authentication'], 'ctl.authentication') ?? credentials(restapi['authentication'], 'restapi.authentication'),
    ...(etcd === undefined && raw['raft'] !== undefined ? { raft: true } : {}),
    ...(restOf(restapi) ? { restApi: restOf(restapi)! } : {}),
  };
}

/** Reads a configuration file (full agent config, else the short ctl form). */
export function readCtlConfig(path: string, env: Readonly<Record<string, string | undefined>>): CtlConfig {
  // ctl often runs on a host without PostgreSQL binaries: do not check bin_dir.
  const result = loadConfig(path, env, { checkBinaries: false });
  if (result.config !== null) {
    const c = result.config;
    return {
      scope: c.scope, namespace: c.namespace, name: c.name,
      ...(c.etcd3 ?? c.etcd ? { etcd3: c.etcd3 ?? c.etcd } : {}),
      auth: c.ctl?.authentication ?? c.restapi.authentication ?? null,
      ...(c.raft && !(c.etcd3 ?? c.etcd) ? { raft: true } : {}),
      ...(restOf(c.restapi as unknown as Record<string, unknown>) ? { restApi: restOf(c.restapi as unknown as Record<string, unknown>)! } : {}),
    };
  }
  const errors = result.errors.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
  let isFile = false;
  try { isFile = statSync(path).isFile(); } catch { /* reported below */ }
  if (!isFile) throw new CtlError(`invalid configuration file ${path}:\n  ${errors.join('\n  ')}`);
  return readShortForm(path, errors);
}
