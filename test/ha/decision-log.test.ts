/**
 * DecisionLog: records changes of mind only, counts repeats, stays bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecisionLog } from '../../src/ha/decision-log.js';
import type { Decision } from '../../src/ha/types.js';

const T = Date.parse('2024-05-01T12:00:00.000Z');
const renew: Decision = { actions: [{ kind: 'renew-lock' }], reason: 'no action: I am (a), the leader with the lock' };
const demote: Decision = { actions: [{ kind: 'demote', mode: 'offline' }], reason: 'DCS is not accessible' };

test('a repeated decision bumps the count and last-seen time instead of adding an entry', () => {
  const log = new DecisionLog();
  assert.equal(log.record(renew, T), true);
  assert.equal(log.record(renew, T + 10_000), false);
  assert.equal(log.record(renew, T + 20_000), false);
  assert.deepEqual(log.entries(), [{
    at: '2024-05-01T12:00:00.000Z', lastAt: '2024-05-01T12:00:20.000Z', reason: renew.reason, actions: ['renew-lock'], count: 3,
  }]);
});

test('a different reason or different action kinds start a new entry, newest last', () => {
  const log = new DecisionLog();
  log.record(renew, T);
  log.record(demote, T + 1000);
  log.record({ ...demote, actions: [] }, T + 2000); // same reason, different actions
  log.record(renew, T + 3000); // back to an earlier decision: still a change
  const entries = log.entries();
  assert.deepEqual(entries.map((e) => e.actions), [['renew-lock'], ['demote'], [], ['renew-lock']]);
  assert.equal(entries[3]?.at, '2024-05-01T12:00:03.000Z');
  assert.equal(log.latest()?.reason, renew.reason);
});

test('the ring keeps only the newest `capacity` entries', () => {
  const log = new DecisionLog(3);
  for (let i = 0; i < 5; i++) log.record({ actions: [], reason: `reason ${i}` }, T + i);
  assert.deepEqual(log.entries().map((e) => e.reason), ['reason 2', 'reason 3', 'reason 4']);
  assert.equal(new DecisionLog().capacity, 100);
});

test('entries() is a snapshot the caller cannot use to change the log', () => {
  const log = new DecisionLog();
  log.record(renew, T);
  const snap = log.entries() as unknown[];
  snap.pop();
  assert.equal(log.entries().length, 1);
  assert.equal(new DecisionLog().latest(), null);
});

test('a capacity that is not a positive integer is refused with the value named', () => {
  assert.throws(() => new DecisionLog(0), /capacity must be a positive integer, got 0/);
  assert.throws(() => new DecisionLog(2.5), /got 2.5/);
});
