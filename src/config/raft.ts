/**
 * The `raft:` section: Patroni's keys (self_addr, bind_addr, partner_addrs, data_dir, password),
 * ours (join), and QLUSTER's settings (seed qluster.txt, `cluster:` there) written under `raft:`
 * with QLUSTER's dashed names or in snake_case (node-timeout or node_timeout).
 *
 * The rules between the settings (heartbeat shorter than node-timeout, replication-factor never
 * below a majority nor above the cluster size, autoremove sanity, lease ttl >= 1.5 x node-timeout)
 * are the Raft core's own (checkRaftSettings, validateLeaseTtl): this file only reads the raw
 * section and reports their verdicts as config problems, so there is one source of truth.
 */
import * as z from 'zod';
import {
  checkRaftSettings, DRIVER_TICK_MS, QLUSTER_FIELDS, type QlusterKey, type QlusterRaftSettings,
} from '../raft/core/index.js';
import { validateLeaseTtl } from '../raft/kv/index.js';
import { DEFAULT_TIMING } from './dynamic.js';
import { bool, int, listOrCommaString, secret, section, str } from './fields.js';
import { problemAbout, type Problem } from './problem.js';
import { findUnknownKeys, isPlainObject } from './unknown-keys.js';

const UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_EXPECTED = 'expected a duration such as "1s", "500ms", "1m" or "1m30s" (a plain number is milliseconds)';

/**
 * A duration in milliseconds from QLUSTER's format: "30s", "500ms", "1m", "1h", Go-style compounds
 * ("1m30s"), decimals ("1.5s"); a plain number (or numeric string) is milliseconds. Null when `v`
 * is none of these.
 */
export function parseDurationMs(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const text = v.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return null;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * (UNITS_MS[m[2]!] ?? 0);
  return total;
}

/** A positive duration, parsed to milliseconds. */
export function duration() {
  return z.preprocess((v) => parseDurationMs(v) ?? v, z.number({ error: DURATION_EXPECTED }).positive({ error: `${DURATION_EXPECTED} greater than 0` }));
}

type Snake<K extends string> = K extends `${infer A}-${infer B}` ? `${A}_${Snake<B>}` : K;

/** The dashed name and its snake_case twin, both with the same schema. */
function both<K extends QlusterKey, S extends z.ZodType>(key: K, schema: S): { [P in K | Snake<K>]: z.ZodOptional<S> } {
  return { [key]: schema.optional(), [snakeOf(key)]: schema.optional() } as { [P in K | Snake<K>]: z.ZodOptional<S> };
}

function snakeOf(key: string): string {
  return key.replace(/-/g, '_');
}

/** The raft section; schema.ts embeds it as `raft:`. */
export const raftSectionSchema = section('raft', {
  data_dir: str('a directory path').optional(),
  self_addr: str('an address "host:port"').optional(),
  bind_addr: str('an address "host:port"').optional(),
  partner_addrs: listOrCommaString('Raft peer addresses "host:port"').optional(),
  password: secret('a password').optional(),
  /** Start blank and wait to be added by a member (ctl raft add / POST /raft/peers). */
  join: bool().optional(),
  ...both('node-timeout', duration()),
  ...both('heartbeat-interval', duration()),
  ...both('pre-voting-timeout', duration()),
  ...both('leader-voting-timeout', duration()),
  ...both('replication-retry-interval', duration()),
  ...both('hello-retry-interval', duration()),
  ...both('quorum-replication', bool()),
  ...both('replication-factor', int('a number of voters (0 = majority)', 0)),
  ...both('autoremove-enabled', bool()),
  ...both('autoremove-minimum', int('a number of voters', 1)),
  ...both('remove-interval', duration()),
});

export type RaftSection = z.output<typeof raftSectionSchema>;

/**
 * The embedded node's defaults, tuned for the HA loop rather than QLUSTER's seed example (whose
 * 30 s node-timeout would make every failover wait half a minute for a Raft leader). node-timeout
 * follows the lease ttl (defaultNodeTimeoutMs), the heartbeat follows node-timeout
 * (defaultHeartbeatMs), the vote timeouts default to node-timeout and the retry interval to two
 * heartbeats.
 */
export const RAFT_DEFAULTS = {
  nodeTimeoutMinMs: 1000,
  nodeTimeoutMaxMs: 5000,
  /** The heartbeat slack (node-timeout minus heartbeat) the default heartbeat keeps when it can. */
  heartbeatSlackMs: 1500,
  helloRetryIntervalMs: 200,
  quorumReplication: true,
  replicationFactor: 0,
  autoremoveEnabled: false,
  autoremoveMinimum: 3,
  removeIntervalMs: 60_000,
} as const;

/** The value of `key` in a parsed or raw section, under either spelling (dashed wins). */
function pick(r: Readonly<Record<string, unknown>>, key: QlusterKey): unknown {
  return r[key] ?? r[snakeOf(key)];
}

/**
 * node-timeout when the section does not set it: a tenth of the lease ttl, between 1 s and 5 s
 * (ttl 10 -> 1 s, ttl 30 -> 3 s). A longer ttl already accepts a slower failover, and a slower
 * heartbeat is what makes an idle agent cheap: with ttl 30 a Raft leader's death costs about
 * 2 x 2 s more than with a fixed 1 s, on top of the ttl the lease needs anyway.
 */
export function defaultNodeTimeoutMs(ttlSeconds: number): number {
  return Math.min(RAFT_DEFAULTS.nodeTimeoutMaxMs, Math.max(RAFT_DEFAULTS.nodeTimeoutMinMs, Math.round(ttlSeconds * 100)));
}

/**
 * heartbeat-interval when the section does not set it: half of node-timeout, as long as that
 * leaves at least heartbeatSlackMs of slack (node-timeout minus heartbeat), and never less than a
 * third of node-timeout (ttl 10 -> 333 ms, ttl 20 -> 667 ms, ttl 30 -> 1.5 s, ttl 50+ -> 2.5 s).
 *
 * Heartbeats are most of an idle node's cost, so fewer is cheaper; the slack is what it costs.
 * A follower pre-votes when it hears nothing for a random time between node-timeout and twice
 * that, so a delay of up to the slack in one heartbeat (a stalled event loop on the leader, a
 * starved CPU) never starts an election. The leader needs an acknowledgement from a majority per
 * node-timeout (check-quorum): with half, each follower answers about twice per window, and in a
 * three-node cluster one answer from either follower is enough.
 */
export function defaultHeartbeatMs(nodeTimeoutMs: number): number {
  const half = nodeTimeoutMs / 2;
  const third = nodeTimeoutMs / 3;
  return Math.round(Math.max(third, Math.min(half, nodeTimeoutMs - RAFT_DEFAULTS.heartbeatSlackMs)));
}

/** QLUSTER settings from a parsed raft section, defaults filled in (timings from the lease ttl in seconds). */
export function qlusterSettingsOf(section: RaftSection, ttlSeconds: number): QlusterRaftSettings {
  return settingsFrom(section as Readonly<Record<string, unknown>>, ttlSeconds);
}

function settingsFrom(r: Readonly<Record<string, unknown>>, ttlSeconds: number): QlusterRaftSettings {
  const num = (key: QlusterKey, dflt: number): number => { const v = pick(r, key); return typeof v === 'number' ? v : dflt; };
  const flag = (key: QlusterKey, dflt: boolean): boolean => { const v = pick(r, key); return typeof v === 'boolean' ? v : dflt; };
  const nodeTimeoutMs = num('node-timeout', defaultNodeTimeoutMs(ttlSeconds));
  const heartbeatIntervalMs = num('heartbeat-interval', defaultHeartbeatMs(nodeTimeoutMs));
  return {
    nodeTimeoutMs,
    heartbeatIntervalMs,
    preVotingTimeoutMs: num('pre-voting-timeout', nodeTimeoutMs),
    leaderVotingTimeoutMs: num('leader-voting-timeout', nodeTimeoutMs),
    replicationRetryIntervalMs: num('replication-retry-interval', 2 * heartbeatIntervalMs),
    helloRetryIntervalMs: num('hello-retry-interval', RAFT_DEFAULTS.helloRetryIntervalMs),
    quorumReplication: flag('quorum-replication', RAFT_DEFAULTS.quorumReplication),
    replicationFactor: num('replication-factor', RAFT_DEFAULTS.replicationFactor),
    autoremoveEnabled: flag('autoremove-enabled', RAFT_DEFAULTS.autoremoveEnabled),
    autoremoveMinimum: num('autoremove-minimum', RAFT_DEFAULTS.autoremoveMinimum),
    removeIntervalMs: num('remove-interval', RAFT_DEFAULTS.removeIntervalMs),
  };
}

/** The founding voters a section names: self_addr plus partner_addrs, without duplicates. */
export function foundingVoters(section: { self_addr?: unknown; partner_addrs?: unknown }): string[] {
  const raw = section.partner_addrs;
  const partners = (Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [])
    .map((s) => String(s).trim()).filter(Boolean);
  const self = typeof section.self_addr === 'string' && section.self_addr.trim() !== '' ? [section.self_addr.trim()] : [];
  return [...new Set([...self, ...partners])];
}

/**
 * Cross-field rules of the raft section on RAW input (after env overrides), as config problems:
 * the core's settings rules, the lease ttl rule, a key given under both spellings with different
 * values, and unknown keys (warnings with "did you mean"). Values of the wrong type are skipped
 * here: the schema reports them.
 */
export function checkRaftSection(raw: Readonly<Record<string, unknown>>): Problem[] {
  const section = raw['raft'];
  if (!isPlainObject(section)) return [];
  const problems: Problem[] = [...findUnknownKeys(raftSectionSchema, section, 'raft')];
  const parsed: Record<string, unknown> = {};
  let typeErrors = false;
  for (const key of Object.keys(QLUSTER_FIELDS) as QlusterKey[]) {
    const values = [key, snakeOf(key)].filter((k) => section[k] !== undefined)
      .map((k) => ({ k, v: raftSectionSchema.shape[k as keyof typeof raftSectionSchema.shape].safeParse(section[k]) }));
    const good = values.filter((x) => x.v.success);
    if (good.length < values.length) typeErrors = true;
    if (good.length === 2 && good[0]!.v.data !== good[1]!.v.data) {
      problems.push(problemAbout(`raft.${snakeOf(key)}`, section[snakeOf(key)], `conflicts with raft.${key} (${JSON.stringify(section[key])}); give the setting once`, 'error'));
    }
    if (good[0]) parsed[key] = good[0].v.data;
  }
  // A value of the wrong type (reported by the schema) would leave a setting at its default:
  // judging the others against a guess would only add confusing errors.
  if (typeErrors) return problems;
  const usedName = (key: QlusterKey) => (section[key] === undefined && section[snakeOf(key)] !== undefined ? snakeOf(key) : key);
  // Defaults follow the shortest ttl given, so that one passes the lease rule below by construction.
  const given = leaseTtls(raw);
  const ttls = given.map(([, ttl]) => ttl);
  const settings = settingsFrom(parsed, ttls.length > 0 ? Math.min(...ttls) : DEFAULT_TIMING.ttl);
  const join = section['join'] === true || section['join'] === 'true';
  const voters = foundingVoters(section);
  const size = join && voters.length <= 1 ? null : voters.length;
  for (const issue of checkRaftSettings(settings, size, DRIVER_TICK_MS, 'raft.')) {
    const path = `raft.${usedName(issue.key)}`;
    problems.push({ path, value: issue.value, message: `${issue.message}${size !== null && /exceeds/.test(issue.message) ? ` (cluster size = self_addr + partner_addrs)` : ''}`, severity: 'error' });
  }
  problems.push(...checkLeaseTtl(given, settings.nodeTimeoutMs, usedName('node-timeout')));
  return problems;
}

/**
 * The lease ttls a raw config gives, in seconds, with where (top-level ttl, bootstrap.dcs.ttl),
 * else Patroni's default. A value that is not an integer is left out (the schema reports it).
 */
function leaseTtls(raw: Readonly<Record<string, unknown>>): Array<[string, number]> {
  const dcs = isPlainObject(raw['bootstrap']) && isPlainObject(raw['bootstrap']['dcs']) ? raw['bootstrap']['dcs'] : {};
  const places: Array<[string, unknown]> = [['ttl', raw['ttl']], ['bootstrap.dcs.ttl', dcs['ttl']]];
  const given = places.filter(([, v]) => v !== undefined);
  const out: Array<[string, number]> = [];
  for (const [path, v] of given) {
    const ttl = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : null;
    if (ttl !== null) out.push([path, ttl]);
  }
  return given.length > 0 ? out : [['bootstrap.dcs.ttl (default)', DEFAULT_TIMING.ttl]];
}

/** Each lease ttl from leaseTtls against 1.5 x node-timeout. */
function checkLeaseTtl(ttls: ReadonlyArray<[string, number]>, nodeTimeoutMs: number, nodeTimeoutName: string): Problem[] {
  const problems: Problem[] = [];
  for (const [path, ttl] of ttls) {
    if (validateLeaseTtl(ttl * 1000, nodeTimeoutMs) === null) continue;
    const minimum = Math.ceil((1.5 * nodeTimeoutMs) / 1000);
    problems.push({
      path: path.replace(' (default)', ''), value: ttl, severity: 'error',
      message: `ttl ${ttl} s is shorter than 1.5 x raft.${nodeTimeoutName} (${nodeTimeoutMs} ms): a Raft leader change alone ` +
        `could expire the leader key; expected ttl >= ${minimum} s, or a shorter raft.${nodeTimeoutName}`,
    });
  }
  return problems;
}
