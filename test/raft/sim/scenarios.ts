/** Small builders for focused tests on a fault-free SimCluster (messages arrive the next tick). */
import assert from 'node:assert/strict';
import type { NodeId } from '../../../src/raft/core/types.js';
import { SimCluster, type ClusterOptions } from './cluster.js';

export function cluster(voters: number, opts: Partial<ClusterOptions> = {}): SimCluster {
  return new SimCluster({ seed: 7, voters, ...opts });
}

/** Makes `id` campaign and ticks until it leads; fails the test if it does not within 20 ticks. */
export function elect(c: SimCluster, id: NodeId): void {
  c.node(id).raw!.campaign();
  c.drain();
  const took = c.tickUntil(() => c.leader()?.id === id, 20);
  assert.notEqual(took, null, `${id} did not become leader`);
}

let nextOp = 1_000_000;

/** Proposes a put on the leader and returns the entry's index. */
export function put(c: SimCluster, key: string, value: string): number {
  const leader = c.leader();
  assert.ok(leader, 'no leader to propose to');
  const res = c.propose(leader.id, { id: nextOp++, input: { kind: 'put', key, value } });
  assert.ok(res.accepted, `proposal refused: ${res.accepted ? '' : res.reason}`);
  return res.index;
}

export function role(c: SimCluster, id: NodeId): string {
  return c.node(id).raw!.basicStatus().role;
}

export function term(c: SimCluster, id: NodeId): number {
  return c.node(id).raw!.basicStatus().term;
}

export function commit(c: SimCluster, id: NodeId): number {
  return c.node(id).raw!.basicStatus().commit;
}

export function voters(c: SimCluster, id: NodeId): readonly NodeId[] {
  return c.node(id).raw!.status().confState.voters;
}
