import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replicationState } from '../../src/ha/facts.js';
import type { PgProbe } from '../../src/postgres/types.js';

const probe = (o: Partial<PgProbe>): PgProbe => ({
  dataDir: 'initialized', sysid: '1', postmasterPid: 10, running: true, inRecovery: true, timeline: 2, walPosition: 100,
  receivedLsn: 100, replayedLsn: 100, controlState: 'in archive recovery', standbySignal: true, following: 'node1',
  walReceiver: 'streaming', replication: [], serverVersion: 150000, postmasterStartTime: null, pendingRestart: [], ...o,
});

test('replication_state says streaming only while the WAL receiver streams, as Patroni 3.0.4+ does', () => {
  assert.deepEqual(replicationState(probe({})), { replication_state: 'streaming' });
  // An upstream is configured but the receiver waits (e.g. a timeline it cannot follow): not streaming.
  assert.deepEqual(replicationState(probe({ walReceiver: 'waiting' })), { replication_state: 'in archive recovery' });
  assert.deepEqual(replicationState(probe({ walReceiver: null })), { replication_state: 'in archive recovery' });
  assert.deepEqual(replicationState(probe({ inRecovery: false, walReceiver: null })), {}, 'a primary has none');
  assert.deepEqual(replicationState(probe({ running: false })), {}, 'nor a stopped server');
});
