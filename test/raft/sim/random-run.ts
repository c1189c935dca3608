/**
 * One randomized simulation run, fully determined by its seed: a 3-5 node cluster under message
 * loss, duplication, delay/reordering, partitions, crashes (including between persisting and
 * sending), restarts, membership changes (add, remove, remove the leader) and leadership
 * transfers, with clients issuing KV operations. Afterwards the faults stop, and the run checks
 * liveness (a leader, and a fresh proposal applied by every voter) and linearizability.
 */
import { checkLinearizable } from './linearizability.js';
import { kvModel } from './kv-model.js';
import { SimClients } from './clients.js';
import { SimCluster } from './cluster.js';
import type { Prng } from './prng.js';

export interface RunResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly error: string | null;
  readonly trail: readonly string[];
  readonly stats: { ops: number; completed: number; messages: number; leaders: number; maxCommit: number };
}

export interface RunOptions {
  readonly chaosTicks?: number;
  readonly settleTicks?: number;
  readonly traceMessages?: boolean;
}

export function runSeed(seed: number, opts: RunOptions = {}): RunResult {
  const chaosTicks = opts.chaosTicks ?? 250;
  const settleTicks = opts.settleTicks ?? 120;
  const pick = new PrngShim(seed);
  const c = new SimCluster({
    seed,
    voters: 3 + pick.intBelow(3),
    faults: { drop: 0.02 + pick.intBelow(8) / 100, duplicate: pick.intBelow(5) / 100, maxDelay: 1 + pick.intBelow(4) },
    snapshotEvery: 10 + pick.intBelow(20),
    traceMessages: opts.traceMessages ?? false,
  });
  const clients = new SimClients(c, 3);
  const restartAt = new Map<string, number>();
  let error: string | null = null;
  try {
    for (let t = 0; t < chaosTicks; t++) {
      injectFault(c, c.rng, restartAt);
      clients.step(0.3);
      c.tick();
    }
    settle(c, clients, settleTicks, restartAt);
    clients.finish();
    const lin = checkLinearizable(kvModel, clients.history);
    if (!lin.ok) error = `history of ${clients.history.length} operations is ${lin.exhausted ? 'too hard to check (search budget exhausted)' : 'not linearizable'} (partition ${lin.failedPartition})`;
  } catch (e) {
    error = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
  }
  return {
    seed,
    ok: error === null,
    error,
    trail: c.trail,
    stats: {
      ops: clients.history.length,
      completed: clients.completed,
      messages: c.net.sent,
      leaders: c.events.filter((e) => e.event.kind === 'became-leader').length,
      maxCommit: c.checker.maxCommitted,
    },
  };
}

/** A separate generator for the run's shape, so it does not shift the cluster's own draws. */
class PrngShim {
  private x: number;
  constructor(seed: number) {
    this.x = (seed ^ 0x9e3779b9) >>> 0 || 1;
  }
  intBelow(n: number): number {
    this.x ^= this.x << 13;
    this.x ^= this.x >>> 17;
    this.x ^= this.x << 5;
    return (this.x >>> 0) % n;
  }
}

function injectFault(c: SimCluster, rng: Prng, restartAt: Map<string, number>): void {
  for (const [id, at] of [...restartAt]) {
    if (at <= c.now) {
      restartAt.delete(id);
      c.restart(id);
    }
  }
  const roll = rng.next();
  if (roll < 0.012 && c.alive().length > 0) {
    const victim = rng.pick(c.alive());
    if (rng.chance(0.3)) {
      // Crash between persisting a Ready and sending its messages (or, for a leader that sends
      // first, between sending and persisting: followers then hold entries its disk lacks).
      c.armCrash(victim.id, rng.chance(0.5) ? 'after-persist' : 'before-persist', 3);
    } else {
      c.crash(victim.id);
      // Its sockets close: the live nodes see their links to it fail (what the driver reports).
      for (const n of c.alive()) n.raw!.reportDisconnected(victim.id);
    }
    restartAt.set(victim.id, c.now + 5 + rng.intBelow(40));
  } else if (roll < 0.022) {
    const ids = [...c.nodes.keys()];
    const a = ids.filter(() => rng.chance(0.5));
    const b = ids.filter((id) => !a.includes(id));
    c.net.partition([a, b]);
    c.log(`partition [${a.join(' ')}] | rest`);
    // Links across the cut fail (a connection attempt times out or is reset).
    for (const n of c.alive()) for (const other of a.includes(n.id) ? b : a) n.raw!.reportDisconnected(other);
  } else if (roll < 0.04) {
    c.net.heal();
    c.log('heal');
  } else if (roll < 0.05) {
    changeMembership(c, rng);
  } else if (roll < 0.054) {
    const leader = c.leader();
    if (leader !== null) {
      const target = rng.pick(leader.raw!.status().confState.voters);
      c.log(`transfer ${leader.id} -> ${target}: ${leader.raw!.transferLeader(target).detail}`);
    }
  } else if (roll < 0.06 && c.alive().length > 0) {
    // A spurious link failure: the peer is alive and connected to everyone else.
    const n = rng.pick(c.alive());
    const other = rng.pick([...c.nodes.keys()].filter((id) => id !== n.id));
    if (other !== undefined) {
      c.log(`${n.id} loses its link to ${other}`);
      n.raw!.reportDisconnected(other);
    }
  }
}

function changeMembership(c: SimCluster, rng: Prng): void {
  const leader = c.leader();
  if (leader === null) return;
  const conf = leader.raw!.status().confState;
  const roll = rng.intBelow(3);
  if (roll === 0 && conf.voters.length + conf.learners.length < 6) {
    const id = c.spawn();
    c.proposeConfChange(leader.id, { kind: 'add-learner', node: id });
  } else if (roll === 1 && conf.voters.length > 3) {
    c.proposeConfChange(leader.id, { kind: 'remove', node: rng.pick(conf.voters) });
  } else if (roll === 2 && conf.voters.length > 3) {
    c.proposeConfChange(leader.id, { kind: 'remove', node: leader.id });
  }
}

/**
 * Heals everything, then requires liveness: within the settle period a leader must emerge and a
 * marker proposal must be applied by every voter of the leader's configuration.
 */
function settle(c: SimCluster, clients: SimClients, ticks: number, restartAt: Map<string, number>): void {
  c.net.heal();
  c.disarm();
  c.net.faults = { drop: 0, duplicate: 0, maxDelay: 1 };
  for (const id of restartAt.keys()) c.restart(id);
  restartAt.clear();
  c.log('settle: faults off, all nodes up');
  let marker: { index: number; term: number } | null = null;
  for (let t = 0; t < ticks; t++) {
    clients.step(0.1);
    c.tick();
    const leader = c.leader();
    if (marker === null && leader !== null && t >= 40) {
      const res = c.propose(leader.id, { id: 0, input: { kind: 'get', key: 'marker' } });
      if (res.accepted) marker = { index: res.index, term: res.term };
    }
    if (marker !== null && leader !== null && markerAppliedEverywhere(c, leader.id, marker)) return;
  }
  throw new Error(`liveness: ${marker === null ? 'no leader accepted a proposal' : `marker ${marker.term}/${marker.index} not applied by every voter`} within ${ticks} ticks after healing`);
}

function markerAppliedEverywhere(c: SimCluster, leaderId: string, marker: { index: number; term: number }): boolean {
  const voters = c.node(leaderId).raw!.status().confState.voters;
  return voters.every((v) => {
    const n = c.nodes.get(v);
    if (n === undefined || !n.alive || n.applied < marker.index) return false;
    const e = c.storedEntry(v, marker.index);
    return e === undefined || e.term === marker.term; // compacted is fine: it was applied
  });
}
