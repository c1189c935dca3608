/**
 * The local configuration file: Patroni's YAML format plus the QHB keys (postgresql.hba_file,
 * ident_file, database, config_base_name; bootstrap.qhb_hba).
 *
 * This one schema gives the TypeScript types (`Config`), the defaults and the per-key error
 * messages. Keys keep Patroni's snake_case names so that existing Patroni configs load unchanged.
 * Cross-field rules (exactly one DCS, timing, addresses, binaries) live in rules.ts; unknown keys
 * are reported by unknown-keys.ts (zod drops them from plain sections).
 */
import * as z from 'zod';
import { dynamicConfigSchema, MIN_LOOP_WAIT, MIN_RETRY_TIMEOUT, MIN_TTL } from './dynamic.js';
import { raftSectionSchema } from './raft.js';
import {
  bool, int, listOrCommaString, nonEmpty, oneOf, openSection, scalar, scalarMap, seconds, secret, section, str,
  stringList, stringMap,
} from './fields.js';

const path = (what = 'a file path') => str(what).optional();

const credentials = (name: string) => section(name, {
  username: secret('a user name'),
  password: secret('a password'),
});

const restapiSchema = section('restapi', {
  listen: nonEmpty('an address "host:port" to listen on'),
  connect_address: nonEmpty('an address "host:port" that peers use to reach this REST API').optional(),
  authentication: credentials('restapi.authentication').optional(),
  certfile: path(),
  keyfile: path(),
  keyfile_password: secret('a password').optional(),
  cafile: path(),
  ciphers: str('an OpenSSL cipher list').optional(),
  verify_client: oneOf(['none', 'optional', 'required']).optional(),
  allowlist: listOrCommaString('a list of addresses or networks').optional(),
  allowlist_include_members: bool().optional(),
  http_extra_headers: stringMap('a map of HTTP header names to values').optional(),
  https_extra_headers: stringMap('a map of HTTP header names to values').optional(),
  request_queue_size: int('a queue length', 1).optional(),
});

const ctlSchema = section('ctl', {
  authentication: credentials('ctl.authentication').optional(),
  insecure: bool().optional(),
  cacert: path(),
  certfile: path(),
  keyfile: path(),
  keyfile_password: secret('a password').optional(),
});

/** `etcd` and `etcd3` have the same keys; both select the etcd v3 API here. */
const etcdSchema = (name: string) => section(name, {
  host: str('an address "host:port"').optional(),
  hosts: listOrCommaString('etcd addresses "host:port"').optional(),
  url: str('a URL such as http://127.0.0.1:2379').optional(),
  proxy: str('a URL').optional(),
  srv: str('a DNS domain').optional(),
  srv_suffix: str('a DNS SRV suffix').optional(),
  protocol: oneOf(['http', 'https']).optional(),
  username: secret('a user name').optional(),
  password: secret('a password').optional(),
  cacert: path(),
  cert: path(),
  key: path(),
  use_proxies: bool().optional(),
});

const consulSchema = section('consul', {
  // Patroni's default agent address; when `url` is set it takes precedence over host/port.
  host: str('an address "host:port"').default('127.0.0.1:8500'),
  url: str('a URL such as http://127.0.0.1:8500').optional(),
  port: int('a TCP port', 1, 65535).optional(),
  scheme: oneOf(['http', 'https']).optional(),
  token: secret('an ACL token').optional(),
  verify: bool().optional(),
  cacert: path(),
  cert: path(),
  key: path(),
  dc: str('a datacenter name').optional(),
  consistency: oneOf(['default', 'consistent', 'stale']).optional(),
  checks: listOrCommaString('Consul check ids').default([]),
  register_service: bool().default(false),
  service_tags: listOrCommaString('service tags').optional(),
  service_check_interval: z.union([z.string(), z.number()], { error: 'expected an interval such as "5s"' }).default('5s'),
  service_check_tls_server_name: str('a host name').optional(),
});

const bootstrapSchema = openSection('bootstrap', {
  dcs: dynamicConfigSchema.prefault({}),
  method: str('a bootstrap method name').optional(),
  initdb: z.array(z.union([z.string(), z.record(z.string(), scalar)]), {
    error: 'expected a list of initdb options (strings, or single-key maps such as "encoding: UTF8")',
  }).optional(),
  pg_hba: stringList('a list of pg_hba.conf lines').optional(),
  qhb_hba: stringList('a list of qhb_hba.conf lines').optional(),
  users: z.record(z.string(), section('user', {
    password: secret('a password').optional(),
    options: stringList('a list of role options such as createdb').optional(),
  }).nullable(), { error: 'expected a map of user names to {password, options}' }).optional(),
  post_bootstrap: str('a shell command').optional(),
  post_init: str('a shell command').optional(),
});

const pgUser = (name: string) => section(name, {
  username: secret('a user name'),
  password: secret('a password').optional(),
  sslmode: oneOf(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']).optional(),
  sslkey: path(),
  sslpassword: secret('a password').optional(),
  sslcert: path(),
  sslrootcert: path(),
  sslcrl: path(),
  sslcrldir: path('a directory path'),
  sslnegotiation: str('an SSL negotiation mode').optional(),
  gssencmode: oneOf(['disable', 'prefer', 'require']).optional(),
  channel_binding: oneOf(['disable', 'prefer', 'require']).optional(),
});

const binNames = ['pg_ctl', 'initdb', 'pg_controldata', 'pg_basebackup', 'postgres', 'pg_isready', 'pg_rewind'] as const;

const callbacksSchema = section('postgresql.callbacks', {
  on_start: str('a shell command').optional(),
  on_stop: str('a shell command').optional(),
  on_restart: str('a shell command').optional(),
  on_reload: str('a shell command').optional(),
  on_role_change: str('a shell command').optional(),
});

const postgresqlSchema = openSection('postgresql', {
  listen: nonEmpty('addresses "host[,host...]:port" to listen on'),
  connect_address: nonEmpty('an address "host:port" that peers use to reach PostgreSQL'),
  proxy_address: str('an address "host:port"').optional(),
  data_dir: nonEmpty('a directory path'),
  bin_dir: path('a directory path'),
  config_dir: path('a directory path'),
  pgpass: path(),
  use_unix_socket: bool().optional(),
  use_unix_socket_repl: bool().optional(),
  bin_name: section('postgresql.bin_name', Object.fromEntries(binNames.map((b) => [b, str('a program name').optional()])) as
    Record<(typeof binNames)[number], z.ZodOptional<z.ZodString>>).optional(),
  authentication: section('postgresql.authentication', {
    superuser: pgUser('postgresql.authentication.superuser'),
    replication: pgUser('postgresql.authentication.replication'),
    rewind: pgUser('postgresql.authentication.rewind').optional(),
  }),
  parameters: scalarMap('a map of PostgreSQL parameter names to values').optional(),
  pg_hba: stringList('a list of pg_hba.conf lines').optional(),
  pg_ident: stringList('a list of pg_ident.conf lines').optional(),
  callbacks: callbacksSchema.optional(),
  pre_promote: str('a shell command').optional(),
  before_stop: str('a shell command').optional(),
  create_replica_methods: stringList('a list of replica creation method names').default(['basebackup']),
  basebackup: z.union([scalarMap(), z.array(z.union([z.string(), scalarMap()]))], {
    error: 'expected pg_basebackup options as a map or a list',
  }).optional(),
  use_pg_rewind: bool().optional(),
  use_slots: bool().optional(),
  remove_data_directory_on_rewind_failure: bool().optional(),
  remove_data_directory_on_diverged_timelines: bool().optional(),
  pg_ctl_timeout: seconds(1).default(60),
  recovery_conf: scalarMap('a map of recovery setting names to values').optional(),
  custom_conf: path(),
  // QHB keys (the qhb-patroni fork): file names and the maintenance database.
  hba_file: path(),
  ident_file: path(),
  database: str('a database name').optional(),
  config_base_name: str('a base name such as "postgresql" or "qhb"').optional(),
});

/** Built-in tags; any other key under `tags` is a custom tag, published as-is. */
const tagsSchema = z.looseObject({
  nofailover: bool().optional(),
  failover_priority: int('a priority (0 never fails over)', 0).optional(),
  noloadbalance: bool().optional(),
  clonefrom: bool().optional(),
  replicatefrom: str('a member name').optional(),
  nosync: bool().optional(),
  nostream: bool().optional(),
}, { error: 'expected tags to be a mapping of tag names to values' });

const watchdogSchema = section('watchdog', {
  // YAML 1.1 reads `mode: off` as false; Patroni treats false as off and true as automatic.
  mode: z.preprocess((v) => (v === false ? 'off' : v === true ? 'automatic' : v),
    oneOf(['off', 'automatic', 'required'])).default('automatic'),
  device: str('a device path').default('/dev/watchdog'),
  safety_margin: int('a number of seconds (-1 means ttl/2)', -1).default(5),
});

const logSchema = section('log', {
  type: oneOf(['plain', 'json']).default('plain'),
  level: z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v),
    oneOf(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'])).default('INFO'),
  traceback_level: z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v),
    oneOf(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'])).default('ERROR'),
  format: z.union([z.string(), z.array(z.unknown()), z.record(z.string(), z.unknown())], {
    error: 'expected a format string (or a list/map for json logs)',
  }).optional(),
  dateformat: str('a date format').optional(),
  static_fields: z.record(z.string(), z.unknown(), { error: 'expected a map of field names to values' }).optional(),
  max_queue_size: int('a number of records', 1).default(1000),
  dir: path('a directory path'),
  mode: int('a file mode such as 0o600', 0).optional(),
  file_num: int('a number of files', 1).default(4),
  file_size: int('a size in bytes', 1).default(25000000),
  loggers: stringMap('a map of logger names to levels').optional(),
});

/** Ensures the namespace has a leading and a trailing slash, as Patroni does ("service" -> "/service/"). */
function normalizeNamespace(ns: string): string {
  return `${ns.startsWith('/') ? '' : '/'}${ns}${ns.endsWith('/') ? '' : '/'}`;
}

/** The whole local configuration file. */
export const configSchema = section('configuration', {
  scope: nonEmpty('a cluster name'),
  namespace: str('a key prefix such as "/service/"').default('/service/').transform(normalizeNamespace),
  name: nonEmpty('a node name, unique in the cluster'),
  // Timing keys are also accepted at the top level (dynamic config from the DCS wins; see effective.ts).
  ttl: seconds(MIN_TTL).optional(),
  loop_wait: seconds(MIN_LOOP_WAIT).optional(),
  retry_timeout: seconds(MIN_RETRY_TIMEOUT).optional(),
  restapi: restapiSchema,
  ctl: ctlSchema.optional(),
  etcd: etcdSchema('etcd').optional(),
  etcd3: etcdSchema('etcd3').optional(),
  consul: consulSchema.optional(),
  // Built-in Raft DCS: Patroni's keys plus QLUSTER's settings (raft.ts).
  raft: raftSectionSchema.optional(),
  // Patroni DCS kinds we do not implement: declared so that rules.ts can say so clearly.
  zookeeper: z.unknown().optional(),
  exhibitor: z.unknown().optional(),
  kubernetes: z.unknown().optional(),
  bootstrap: bootstrapSchema.optional(),
  postgresql: postgresqlSchema,
  tags: tagsSchema.prefault({}),
  watchdog: watchdogSchema.prefault({}),
  log: logSchema.prefault({}),
});

/** The local configuration, defaults applied. */
export type Config = z.output<typeof configSchema>;
export type RestApiConfig = Config['restapi'];
export type PostgresqlConfig = Config['postgresql'];
export type PostgresUser = Config['postgresql']['authentication']['superuser'];
export type EtcdConfig = NonNullable<Config['etcd3']>;
export type ConsulConfig = NonNullable<Config['consul']>;
export type RaftConfig = NonNullable<Config['raft']>;
export type TagsConfig = Config['tags'];
export type WatchdogConfig = Config['watchdog'];
export type LogConfig = Config['log'];
export type BootstrapConfig = NonNullable<Config['bootstrap']>;
