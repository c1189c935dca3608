/**
 * Patroni-style environment overrides (PATRONI_*), laid over the parsed YAML before validation.
 *
 * Pure: the input is not modified and nothing is read from process.env. Values stay strings unless
 * the key holds a list or a map (lists: YAML list or "a,b"; maps: YAML); the schema converts
 * numbers and yes/no words, and reports bad values under the config key they land on.
 * Empty variables are ignored, as Patroni ignores them.
 */
import yaml from 'js-yaml';
import { isPlainObject } from './unknown-keys.js';

type Env = Readonly<Record<string, string | undefined>>;
type Kind = 'string' | 'list' | 'map';

/** One override: env suffix -> config key (under a section given by the group). */
type Mapping = readonly [suffix: string, key: string, kind?: Kind];

const RESTAPI: readonly Mapping[] = [
  ['LISTEN', 'listen'], ['CONNECT_ADDRESS', 'connect_address'], ['CERTFILE', 'certfile'], ['KEYFILE', 'keyfile'],
  ['KEYFILE_PASSWORD', 'keyfile_password'], ['CAFILE', 'cafile'], ['CIPHERS', 'ciphers'], ['VERIFY_CLIENT', 'verify_client'],
  ['ALLOWLIST', 'allowlist', 'list'], ['ALLOWLIST_INCLUDE_MEMBERS', 'allowlist_include_members'],
  ['HTTP_EXTRA_HEADERS', 'http_extra_headers', 'map'], ['HTTPS_EXTRA_HEADERS', 'https_extra_headers', 'map'],
  ['REQUEST_QUEUE_SIZE', 'request_queue_size'],
  ['USERNAME', 'authentication.username'], ['PASSWORD', 'authentication.password'],
];

const CTL: readonly Mapping[] = [
  ['USERNAME', 'authentication.username'], ['PASSWORD', 'authentication.password'], ['INSECURE', 'insecure'],
  ['CACERT', 'cacert'], ['CERTFILE', 'certfile'], ['KEYFILE', 'keyfile'], ['KEYFILE_PASSWORD', 'keyfile_password'],
];

const LOG: readonly Mapping[] = [
  ['TYPE', 'type'], ['LEVEL', 'level'], ['TRACEBACK_LEVEL', 'traceback_level'], ['FORMAT', 'format'],
  ['DATEFORMAT', 'dateformat'], ['STATIC_FIELDS', 'static_fields', 'map'], ['MAX_QUEUE_SIZE', 'max_queue_size'],
  ['DIR', 'dir'], ['MODE', 'mode'], ['FILE_NUM', 'file_num'], ['FILE_SIZE', 'file_size'], ['LOGGERS', 'loggers', 'map'],
];

const POSTGRESQL: readonly Mapping[] = [
  ['LISTEN', 'listen'], ['CONNECT_ADDRESS', 'connect_address'], ['PROXY_ADDRESS', 'proxy_address'],
  ['DATA_DIR', 'data_dir'], ['CONFIG_DIR', 'config_dir'], ['BIN_DIR', 'bin_dir'], ['PGPASS', 'pgpass'],
  ...['PG_CTL', 'INITDB', 'PG_CONTROLDATA', 'PG_BASEBACKUP', 'POSTGRES', 'PG_ISREADY', 'PG_REWIND']
    .map((b): Mapping => [`BIN_${b}`, `bin_name.${b.toLowerCase()}`]),
];

const PG_USER: readonly Mapping[] = [
  'USERNAME', 'PASSWORD', 'SSLMODE', 'SSLKEY', 'SSLPASSWORD', 'SSLCERT', 'SSLROOTCERT', 'SSLCRL', 'SSLCRLDIR',
  'SSLNEGOTIATION', 'GSSENCMODE', 'CHANNEL_BINDING',
].map((s): Mapping => [s, s.toLowerCase()]);

const ETCD: readonly Mapping[] = [
  ['HOST', 'host'], ['HOSTS', 'hosts', 'list'], ['URL', 'url'], ['PROXY', 'proxy'], ['SRV', 'srv'],
  ['SRV_SUFFIX', 'srv_suffix'], ['PROTOCOL', 'protocol'], ['USE_PROXIES', 'use_proxies'], ['USERNAME', 'username'],
  ['PASSWORD', 'password'], ['CACERT', 'cacert'], ['CERT', 'cert'], ['KEY', 'key'],
];

const CONSUL: readonly Mapping[] = [
  ['HOST', 'host'], ['URL', 'url'], ['PORT', 'port'], ['SCHEME', 'scheme'], ['TOKEN', 'token'], ['VERIFY', 'verify'],
  ['CACERT', 'cacert'], ['CERT', 'cert'], ['KEY', 'key'], ['DC', 'dc'], ['CONSISTENCY', 'consistency'],
  ['CHECKS', 'checks', 'list'], ['REGISTER_SERVICE', 'register_service'], ['SERVICE_TAGS', 'service_tags', 'list'],
  ['SERVICE_CHECK_INTERVAL', 'service_check_interval'], ['SERVICE_CHECK_TLS_SERVER_NAME', 'service_check_tls_server_name'],
];

const RAFT: readonly Mapping[] = [
  ['SELF_ADDR', 'self_addr'], ['BIND_ADDR', 'bind_addr'], ['PARTNER_ADDRS', 'partner_addrs', 'list'],
  ['DATA_DIR', 'data_dir'], ['PASSWORD', 'password'],
];

/** Env prefix -> config section and its mappings. */
const GROUPS: readonly (readonly [prefix: string, section: string, mappings: readonly Mapping[]])[] = [
  ['PATRONI_RESTAPI_', 'restapi', RESTAPI],
  ['PATRONI_CTL_', 'ctl', CTL],
  ['PATRONI_LOG_', 'log', LOG],
  ['PATRONI_POSTGRESQL_', 'postgresql', POSTGRESQL],
  ['PATRONI_SUPERUSER_', 'postgresql.authentication.superuser', PG_USER],
  ['PATRONI_REPLICATION_', 'postgresql.authentication.replication', PG_USER],
  ['PATRONI_REWIND_', 'postgresql.authentication.rewind', PG_USER],
  ['PATRONI_ETCD_', 'etcd', ETCD],
  ['PATRONI_ETCD3_', 'etcd3', ETCD],
  ['PATRONI_CONSUL_', 'consul', CONSUL],
  ['PATRONI_RAFT_', 'raft', RAFT],
];

/** Top-level keys, plus Patroni's legacy log variable names (used only when the new name is unset). */
const SINGLES: readonly (readonly [name: string, key: string])[] = [
  ['PATRONI_NAME', 'name'], ['PATRONI_NAMESPACE', 'namespace'], ['PATRONI_SCOPE', 'scope'],
];
const LEGACY_LOG: readonly (readonly [name: string, replacedBy: string, key: string])[] = [
  ['PATRONI_LOGLEVEL', 'PATRONI_LOG_LEVEL', 'log.level'],
  ['PATRONI_LOGFORMAT', 'PATRONI_LOG_FORMAT', 'log.format'],
  ['PATRONI_LOG_DATEFMT', 'PATRONI_LOG_DATEFORMAT', 'log.dateformat'],
];

/** Names that PATRONI_<NAME>_PASSWORD must not be read as a bootstrap user for. */
const RESERVED_USER_PREFIXES = new Set([
  'RESTAPI', 'CTL', 'SUPERUSER', 'REPLICATION', 'REWIND', 'ETCD', 'ETCD3', 'CONSUL', 'RAFT', 'ZOOKEEPER',
  'EXHIBITOR', 'KUBERNETES', 'CITUS', 'POSTGRESQL', 'LOG',
]);

/** A list from "a,b" or a YAML flow list "[a, b]". */
function parseList(text: string): unknown {
  try {
    const parsed = yaml.load(text);
    if (Array.isArray(parsed)) return parsed;
  } catch {
    // Not YAML: fall back to the comma form.
  }
  return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** A map from YAML "{a: 1}"; text that is not a YAML map is passed on for the schema to reject. */
function parseMap(text: string): unknown {
  try {
    const parsed = yaml.load(text);
    if (isPlainObject(parsed)) return parsed;
  } catch {
    // Fall through: the schema reports "expected a map" under the right key.
  }
  return text;
}

function convert(text: string, kind: Kind = 'string'): unknown {
  return kind === 'list' ? parseList(text) : kind === 'map' ? parseMap(text) : text;
}

/** Sets `dotted` in `root`, creating (or replacing non-mapping) intermediate sections. */
function setPath(root: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let cur = root;
  for (const key of keys.slice(0, -1)) {
    const next = cur[key];
    if (isPlainObject(next)) cur = next;
    else {
      const created: Record<string, unknown> = {};
      cur[key] = created;
      cur = created;
    }
  }
  cur[keys[keys.length - 1] as string] = value;
}

/** PATRONI_<USER>_PASSWORD / _OPTIONS -> bootstrap.users.<user> (deprecated in Patroni, still honoured). */
function applyUsers(out: Record<string, unknown>, env: Env): void {
  for (const [name, value] of Object.entries(env)) {
    const m = /^PATRONI_([A-Z0-9_]+?)_(PASSWORD|OPTIONS)$/.exec(name);
    // The first word decides: PATRONI_RESTAPI_KEYFILE_PASSWORD belongs to restapi, not to a user.
    if (!m || !value || RESERVED_USER_PREFIXES.has((m[1] as string).split('_')[0] as string)) continue;
    const user = (m[1] as string).toLowerCase();
    setPath(out, `bootstrap.users.${user}.${m[2] === 'PASSWORD' ? 'password' : 'options'}`,
      m[2] === 'PASSWORD' ? value : parseList(value));
  }
}

/**
 * Applies PATRONI_* overrides to `raw` (the parsed YAML, or undefined when there is no file) and
 * returns a new object. When `raw` is undefined and PATRONI_CONFIGURATION is set, its YAML is the
 * whole configuration and no other variable applies (as in Patroni); a YAML error there is thrown
 * as js-yaml's YAMLException, for the caller to report.
 */
export function applyEnv(raw: unknown, env: Env): unknown {
  if (raw === undefined && env['PATRONI_CONFIGURATION']) return yaml.load(env['PATRONI_CONFIGURATION']);
  if (raw !== undefined && raw !== null && !isPlainObject(raw)) return raw; // not a mapping: the schema says so
  const out: Record<string, unknown> = isPlainObject(raw) ? structuredClone(raw) : {};
  for (const [name, key] of SINGLES) {
    const value = env[name];
    if (value) out[key] = value;
  }
  for (const [name, replacedBy, key] of LEGACY_LOG) {
    const value = env[name];
    if (value && !env[replacedBy]) setPath(out, key, value);
  }
  for (const [prefix, section, mappings] of GROUPS) {
    for (const [suffix, key, kind] of mappings) {
      const value = env[prefix + suffix];
      if (value) setPath(out, `${section}.${key}`, convert(value, kind));
    }
  }
  applyUsers(out, env);
  return out;
}
