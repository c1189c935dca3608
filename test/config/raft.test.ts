import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { runValidateConfig } from '../../src/cli/validate.js';
import { validateConfig, type Problem } from '../../src/config/index.js';
import { parseDurationMs, qlusterSettingsOf } from '../../src/config/raft.js';
import { cleanupTemp, minimalConfig, writeConfig } from './helpers.js';

after(cleanupTemp);

/** minimalConfig() on the built-in Raft DCS with `raft` merged into its raft section. */
function raftConfig(raft: Record<string, unknown>, edit: (c: Record<string, any>) => void = () => {}): Record<string, any> {
  const c = minimalConfig() as Record<string, any>;
  delete c.etcd3;
  c.raft = { self_addr: '127.0.0.1:5010', partner_addrs: ['127.0.0.1:5011', '127.0.0.1:5012'], data_dir: '/tmp/raft', ...raft };
  edit(c);
  return c;
}

const check = (raft: Record<string, unknown>, edit?: (c: Record<string, any>) => void) => validateConfig(raftConfig(raft, edit), { checkBinaries: false });

function at(problems: Problem[], path: string): Problem {
  const found = problems.find((p) => p.path === path);
  assert.ok(found, `expected a problem at ${path}, got ${JSON.stringify(problems)}`);
  return found;
}

describe('raft: QLUSTER settings at config load', () => {
  test('durations in QLUSTER\'s format; a plain number is milliseconds', () => {
    assert.equal(parseDurationMs('30s'), 30_000);
    assert.equal(parseDurationMs('500ms'), 500);
    assert.equal(parseDurationMs('1m'), 60_000);
    assert.equal(parseDurationMs('1m30s'), 90_000);
    assert.equal(parseDurationMs('1.5s'), 1500);
    assert.equal(parseDurationMs(250), 250);
    assert.equal(parseDurationMs('250'), 250);
    assert.equal(parseDurationMs('soon'), null);
    assert.equal(parseDurationMs('5 parsecs'), null);
  });

  test('every key is typed, in dashed or snake_case spelling, with defaults for the rest', () => {
    const r = check({
      'node-timeout': '2s', heartbeat_interval: '200ms', 'pre-voting-timeout': '1s', leader_voting_timeout: 1500,
      'replication-retry-interval': '300ms', hello_retry_interval: '1s', 'quorum-replication': 'no', 'replication-factor': 3,
      'autoremove-enabled': true, autoremove_minimum: 3, 'remove-interval': '1m',
    }, (c) => { c.bootstrap.dcs.ttl = 30; });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(qlusterSettingsOf(r.config!.raft!, 30), {
      nodeTimeoutMs: 2000, heartbeatIntervalMs: 200, preVotingTimeoutMs: 1000, leaderVotingTimeoutMs: 1500,
      replicationRetryIntervalMs: 300, helloRetryIntervalMs: 1000, quorumReplication: false, replicationFactor: 3,
      autoremoveEnabled: true, autoremoveMinimum: 3, removeIntervalMs: 60_000,
    });
    const defaults = qlusterSettingsOf(check({}).config!.raft!, 10);
    assert.equal(defaults.nodeTimeoutMs, 1000);
    assert.equal(defaults.heartbeatIntervalMs, 333);
    assert.equal(defaults.preVotingTimeoutMs, 1000, 'the vote timeouts default to node-timeout');
    assert.equal(defaults.autoremoveEnabled, false);
  });

  test('unset timings follow the lease ttl: node-timeout a tenth of it within 1-5 s, the heartbeat half of it where 1.5 s of slack remains, else a third', () => {
    const raft = check({}).config!.raft!;
    assert.deepEqual([5, 10, 20, 30, 60, 3600].map((ttl) => qlusterSettingsOf(raft, ttl).nodeTimeoutMs), [1000, 1000, 2000, 3000, 5000, 5000]);
    const at30 = qlusterSettingsOf(raft, 30);
    assert.deepEqual([5, 10, 20, 30, 40, 60].map((ttl) => qlusterSettingsOf(raft, ttl).heartbeatIntervalMs), [333, 333, 667, 1500, 2000, 2500]);
    assert.equal(at30.heartbeatIntervalMs, 1500);
    assert.equal(at30.leaderVotingTimeoutMs, 3000);
    assert.equal(at30.replicationRetryIntervalMs, 3000, 'two heartbeats');
    const pinned = qlusterSettingsOf(check({ 'node-timeout': '2s' }).config!.raft!, 30);
    assert.deepEqual([pinned.nodeTimeoutMs, pinned.heartbeatIntervalMs], [2000, 667], 'a set node-timeout wins; the heartbeat follows it');
    const both = qlusterSettingsOf(check({ 'heartbeat-interval': '100ms' }).config!.raft!, 30);
    assert.deepEqual([both.nodeTimeoutMs, both.heartbeatIntervalMs], [3000, 100]);
  });

  test('with timings unset, every accepted ttl passes the lease rule (ttl >= 1.5 x node-timeout)', () => {
    for (const ttl of [5, 7, 20, 30, 45, 300]) {
      const r = check({}, (c) => { c.bootstrap.dcs.ttl = ttl; });
      assert.deepEqual(r.errors.filter((e) => /node-timeout|heartbeat/.test(e.message)), [], `ttl ${ttl}`);
    }
    // A heartbeat that the ttl-derived node-timeout does not exceed is still named.
    assert.match(at(check({ 'heartbeat-interval': '2s' }, (c) => { c.bootstrap.dcs.ttl = 10; }).errors, 'raft.heartbeat-interval').message, /shorter than raft.node-timeout \(1000 ms\)/);
  });

  test('a bad duration names the key, the value and what was expected', () => {
    const r = check({ 'node-timeout': 'soon' });
    assert.equal(r.config, null);
    const p = at(r.errors, 'raft.node-timeout');
    assert.equal(p.value, 'soon');
    assert.match(p.message, /^expected a duration such as "1s", "500ms".*got "soon"$/);
    assert.match(at(check({ heartbeat_interval: 0 }).errors, 'raft.heartbeat_interval').message, /greater than 0, got 0/);
  });

  test('a heartbeat not shorter than node-timeout is an error naming both', () => {
    const p = at(check({ 'node-timeout': '1s', 'heartbeat-interval': '1s' }).errors, 'raft.heartbeat-interval');
    assert.match(p.message, /1000 ms must be shorter than raft.node-timeout \(1000 ms\)/);
  });

  test('replication-factor above the cluster size (self + partners) is an error', () => {
    const p = at(check({ 'replication-factor': 4 }).errors, 'raft.replication-factor');
    assert.equal(p.value, 4);
    assert.match(p.message, /4 exceeds the cluster size \(3 voters\).*self_addr \+ partner_addrs/);
  });

  test('replication-factor below a majority (it would weaken the commit rule) is an error', () => {
    const p = at(check({ replication_factor: 1 }).errors, 'raft.replication_factor');
    assert.match(p.message, /1 is below a majority of 3 voters \(2\); it would weaken the commit rule/);
    assert.deepEqual(check({ 'replication-factor': 2 }).errors, [], 'a majority (2 of 3) is fine');
    assert.deepEqual(check({ 'replication-factor': 3 }).errors, [], 'every voter is fine');
  });

  test('a joining node with no partners is not judged against a cluster size it cannot know', () => {
    const r = check({ partner_addrs: [], join: true, 'replication-factor': 3 });
    assert.deepEqual(r.errors, []);
  });

  test('autoremove settings are checked when enabled', () => {
    const r = check({ 'autoremove-enabled': true, 'remove-interval': '500ms', 'node-timeout': '1s' });
    assert.match(at(r.errors, 'raft.remove-interval').message, /500 ms is shorter than raft.node-timeout \(1000 ms\)/);
  });

  test('a setting given in both spellings with different values is an error', () => {
    const p = at(check({ 'node-timeout': '1s', node_timeout: '2s' }).errors, 'raft.node_timeout');
    assert.match(p.message, /conflicts with raft.node-timeout \("1s"\); give the setting once/);
    assert.deepEqual(check({ 'node-timeout': '1s', node_timeout: 1000 }).errors, [], 'the same value twice is fine');
  });

  test('ttl shorter than 1.5 x node-timeout is an error naming ttl and node-timeout', () => {
    const r = check({ 'node-timeout': '5s' }, (c) => { c.bootstrap.dcs = { ttl: 7, loop_wait: 1, retry_timeout: 3 }; });
    const p = at(r.errors, 'bootstrap.dcs.ttl');
    assert.equal(p.value, 7);
    assert.match(p.message, /ttl 7 s is shorter than 1.5 x raft.node-timeout \(5000 ms\).*expected ttl >= 8 s/);
    const top = check({ node_timeout: '5s' }, (c) => { c.ttl = 6; c.loop_wait = 1; c.retry_timeout = 2; });
    assert.match(at(top.errors, 'ttl').message, /raft.node_timeout \(5000 ms\)/);
    assert.deepEqual(check({ 'node-timeout': '5s' }, (c) => { c.bootstrap.dcs = { ttl: 8, loop_wait: 1, retry_timeout: 3 }; }).errors, []);
  });

  test('an unknown key under raft: gets a did-you-mean warning; the config still loads', () => {
    const r = check({ 'node-timout': '1s', heartbeat_intervall: '100ms', bogus: 1 });
    assert.deepEqual(r.errors, []);
    assert.equal(at(r.warnings, 'raft.node-timout').message, 'unknown key, did you mean node-timeout?');
    assert.equal(at(r.warnings, 'raft.heartbeat_intervall').message, 'unknown key, did you mean heartbeat_interval?');
    assert.equal(at(r.warnings, 'raft.bogus').message, 'unknown key, ignored');
  });

  test('orchestrator --validate-config prints the raft problems', () => {
    const file = writeConfig(raftConfig({ 'replication-factor': 5, 'node-timout': '1s' }));
    const lines: string[] = [];
    const code = runValidateConfig(file, (l) => lines.push(l), {}, { checkBinaries: false });
    assert.equal(code, 1);
    assert.ok(lines.some((l) => /^ERROR raft.replication-factor: 5 exceeds the cluster size \(3 voters\)/.test(l)), lines.join('\n'));
    assert.ok(lines.includes('WARNING raft.node-timout: unknown key, did you mean node-timeout?'), lines.join('\n'));
  });
});
