/**
 * The driver's wake-ups follow the node's role (node.ts scheduleWake). A follower sleeps until its
 * election deadline; one that wins leadership by messages alone (a transfer: told to campaign at
 * once, then elected by the votes that arrive) must start its heartbeats at once, not at that old
 * deadline, or the other followers' election timers can run out first and depose it.
 * Real nodes over TCP on loopback.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RaftNode } from '../../src/raft/node.js';
import { freePorts, sleep, waitFor } from '../support/ports.js';
import { RaftHarness } from './node-harness.js';

const received = (n: RaftNode): number => n.status().transport.traffic.messagesReceived;

describe('raft driver wake-ups', () => {
  const h = new RaftHarness({ dirPrefix: 'raft-wake-', jobsPrefix: '/jobs/', requestTimeoutMs: 2000 });
  after(() => h.cleanup());

  test('a node that wins leadership by a transfer heartbeats at once', async () => {
    const ids = (await freePorts(3)).map((p) => `127.0.0.1:${p}`);
    // 50 ms ticks: heartbeat 100 ms, election timeout 2-4 s. A follower's wake-up is its election
    // deadline, seconds away; the new leader must not keep it.
    await Promise.all(ids.map((id) => h.startNode(id, { voters: ids, electionTicks: 40, heartbeatTicks: 2 })));
    const old = await h.leader();
    await sleep(300);
    const target = h.node(ids.find((i) => i !== old.id)!);
    const other = h.node(ids.find((i) => i !== old.id && i !== target.id)!);
    await old.transferLeader(target.id);
    await waitFor('the target to lead', () => target.isLeader, 5000, 5);
    const term = target.status().term;
    const before = [received(old), received(other)];
    await sleep(700);
    const got = [received(old) - before[0]!, received(other) - before[1]!];
    // About 7 heartbeats each in 700 ms; the old deadline was more than 1.4 s away.
    assert.ok(got.every((n) => n >= 4), `messages from the new leader to each follower in 700 ms: ${got.join(', ')}`);
    assert.ok(target.isLeader);
    assert.equal(target.status().term, term, 'no election since');
  });
});
