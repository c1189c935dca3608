import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  QLUSTER_DEFAULTS,
  commitRuleFromQluster,
  raftOptionsFromQluster,
  raftTimingFromQluster,
  validateRaftSettings,
  type QlusterRaftSettings,
} from '../../src/raft/core/qluster.js';

const s = (over: Partial<QlusterRaftSettings>): QlusterRaftSettings => ({ ...QLUSTER_DEFAULTS, ...over });

describe('QLUSTER settings', () => {
  test('the seed defaults are valid for three voters', () => {
    assert.deepEqual(validateRaftSettings(QLUSTER_DEFAULTS, 3, 100), []);
  });

  test('milliseconds become ticks, rounded up, at least one', () => {
    const t = raftTimingFromQluster(s({ nodeTimeoutMs: 1000, heartbeatIntervalMs: 150, replicationRetryIntervalMs: 1, removeIntervalMs: 60_000 }), 100);
    assert.equal(t.electionTicks, 10);
    assert.equal(t.heartbeatTicks, 2);
    assert.equal(t.replicationRetryTicks, 1);
    assert.equal(t.removeAfterTicks, 600);
    assert.equal(t.preVoteTicks, 100);
    assert.equal(t.helloRetryTicks, 10);
  });

  test('commit rule from quorum-replication and replication-factor', () => {
    assert.deepEqual(commitRuleFromQluster(s({})), { kind: 'majority' });
    assert.deepEqual(commitRuleFromQluster(s({ quorumReplication: false })), { kind: 'all' });
    assert.deepEqual(commitRuleFromQluster(s({ replicationFactor: 4 })), { kind: 'factor', factor: 4 });
  });

  test('autoremove maps to the core option only when enabled', () => {
    assert.equal(raftOptionsFromQluster(s({}), 100).autoremove, null);
    assert.deepEqual(raftOptionsFromQluster(s({ autoremoveEnabled: true }), 100).autoremove, { minimumVoters: 3, afterTicks: 600 });
  });

  test('a replication factor above the cluster size is rejected, naming key and value', () => {
    const errors = validateRaftSettings(s({ replicationFactor: 4 }), 3, 100);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /cluster\.replication-factor: 4 exceeds the cluster size \(3 voters\)/);
  });

  test('a replication factor below a majority is rejected', () => {
    const errors = validateRaftSettings(s({ replicationFactor: 2 }), 5, 100);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /cluster\.replication-factor: 2 is below a majority of 5 voters \(3\)/);
  });

  test('a factor between majority and size is accepted', () => {
    assert.deepEqual(validateRaftSettings(s({ replicationFactor: 4 }), 5, 100), []);
  });

  test('bad durations and a heartbeat not shorter than the node timeout are rejected', () => {
    assert.match(validateRaftSettings(s({ nodeTimeoutMs: -1 }), 3, 100).join('\n'), /cluster\.node-timeout: expected a positive duration, got -1 ms/);
    assert.match(validateRaftSettings(s({ heartbeatIntervalMs: 30_000 }), 3, 100).join('\n'), /cluster\.heartbeat-interval: 30000 ms must be shorter than cluster\.node-timeout/);
  });

  test('autoremove settings are checked when enabled', () => {
    const errors = validateRaftSettings(s({ autoremoveEnabled: true, autoremoveMinimum: 0, removeIntervalMs: 1000 }), 3, 100);
    assert.equal(errors.length, 2);
    assert.match(errors.join('\n'), /cluster\.autoremove-minimum: expected an integer >= 1, got 0/);
    assert.match(errors.join('\n'), /cluster\.remove-interval: 1000 ms is shorter than cluster\.node-timeout/);
  });
});
