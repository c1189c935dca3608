/**
 * The chaos scenarios (issue 5), for a cluster of 3 agents on a real etcd behind one FaultProxy per
 * agent, ttl 10 / loop_wait 2 / retry_timeout 3. Each names its correct outcome; the harness checks
 * the common promises (no split brain, no lost acknowledged write in strict mode, the cluster heals)
 * on every one. Random parts (which replica, how long a fault lasts, when to kill) come from ctx.rng.
 */
import { performance } from 'node:perf_hooks';
import type { AgentNode } from '../support/cluster.js';
import { sleep } from '../support/ports.js';
import type { ChaosContext, Scenario } from './harness.js';
import { syncStandbys } from './observe.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

/** A fault that lasts "2 x ttl", drawn from [1.6, 2.4] x ttl so rounds do not all line up with the loop. */
function faultDurationMs(ctx: ChaosContext): number {
  return ctx.rng.intBetween(Math.round(1.6 * ctx.ttlMs), Math.round(2.4 * ctx.ttlMs));
}

/** The first node other than `except` that answers /primary 200 within `timeoutMs`, else null. */
async function otherPrimary(ctx: ChaosContext, except: readonly AgentNode[], timeoutMs: number): Promise<AgentNode | null> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    for (const n of ctx.nodes) if (!except.includes(n) && (await n.status('/primary')) === 200) return n;
    await sleep(100);
  }
  return null;
}

/** A switchover target: in strict mode one the primary may hand over to (a /sync member); else any replica. */
async function switchoverCandidate(ctx: ChaosContext): Promise<AgentNode> {
  const replicas = ctx.nodes.filter((n) => n !== ctx.primary);
  if (ctx.mode === 'async') return ctx.rng.pick(replicas);
  const sync = await syncStandbys(ctx.primary);
  const allowed = replicas.filter((n) => sync.includes(n.name));
  if (allowed.length === 0) throw new Error(`no synchronous standby to switch over to (/sync: ${sync.join(', ') || 'empty'})`);
  return ctx.rng.pick(allowed);
}

/** POST /switchover on a random node; throws unless it was accepted (`wait`: 200, else 202). */
async function requestSwitchover(ctx: ChaosContext, candidate: AgentNode, wait: boolean): Promise<void> {
  const via = ctx.rng.pick(ctx.nodes);
  ctx.note(`POST /switchover on ${via.name}: ${ctx.primary.name} -> ${candidate.name}${wait ? '' : ' (wait: false)'}`);
  const r = await via.api('/switchover', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ leader: ctx.primary.name, candidate: candidate.name, wait }) });
  ctx.note(`POST /switchover answered ${r.status}: ${JSON.stringify(r.body)}`);
  if (r.status !== (wait ? 200 : 202)) throw new Error(`switchover ${ctx.primary.name} -> ${candidate.name} was refused: ${r.status} ${JSON.stringify(r.body)}`);
}

/** Start every victim again. */
async function restartVictims(ctx: ChaosContext): Promise<void> {
  for (const v of ctx.victims) {
    v.start();
    ctx.note(`${v.name}: agent started again`);
  }
}

/** After a node's death: wait for another primary (bounded), then a random 0-5 s, before restarting it. */
async function awaitFailover(ctx: ChaosContext, dead: AgentNode): Promise<void> {
  const next = await otherPrimary(ctx, [dead], 3 * ctx.ttlMs);
  ctx.note(next ? `${next.name} answers /primary 200` : `no other primary within ${3 * ctx.ttlMs / 1000} s`);
  await sleep(ctx.rng.intBetween(0, 5000));
}

export const killPrimaryNode: Scenario = {
  name: 'kill-primary-node',
  expected: 'the synchronous standby (any replica in async mode) takes over after the leader key expires; the old node, restarted, rejoins as a replica (pg_rewind if it diverged)',
  async fault(ctx) {
    ctx.victims.push(ctx.primary);
    await ctx.primary.killNode();
    ctx.note(`${ctx.primary.name}: agent and PostgreSQL SIGKILLed`);
    await awaitFailover(ctx, ctx.primary);
  },
  heal: restartVictims,
};

export const killPostgres: Scenario = {
  name: 'kill-postgres',
  expected: "the primary's agent starts its PostgreSQL again (or another member takes over); no restart of anything by the test",
  async fault(ctx) {
    const ok = ctx.primary.killPostgres();
    ctx.note(`${ctx.primary.name}: postmaster SIGKILLed (${ok ? 'done' : 'no postmaster found'})`);
    if (!ok) throw new Error(`no running postmaster on ${ctx.primary.name} to kill`);
    await sleep(ctx.rng.intBetween(0, 3000));
  },
};

export const killPrimaryAgent: Scenario = {
  name: 'kill-primary-agent',
  expected: "the fence process stops the orphaned PostgreSQL by the lease deadline, before a replica can take the expired key; the restarted agent rejoins as a replica",
  async fault(ctx) {
    ctx.victims.push(ctx.primary);
    await ctx.primary.killAgent();
    ctx.note(`${ctx.primary.name}: agent SIGKILLed (its PostgreSQL keeps running)`);
    await awaitFailover(ctx, ctx.primary);
  },
  heal: restartVictims,
};

export const freezePrimaryAgent: Scenario = {
  name: 'freeze-primary-agent',
  expected: "the fence stops the frozen agent's PostgreSQL before a replica promotes; after SIGCONT the agent finds another leader and rejoins as a replica",
  async fault(ctx) {
    const ms = faultDurationMs(ctx);
    ctx.primary.proc!.child.kill('SIGSTOP');
    ctx.note(`${ctx.primary.name}: agent SIGSTOPped for ${ms} ms`);
    await sleep(ms);
  },
  async heal(ctx) {
    ctx.primary.proc?.child.kill('SIGCONT');
    ctx.note(`${ctx.primary.name}: agent SIGCONT`);
  },
};

function isolate(who: 'primary' | 'replica'): Scenario {
  return {
    name: `isolate-${who}`,
    expected: who === 'primary'
      ? 'the primary demotes itself by its lease deadline; another member takes over only after the key expires; the old one rejoins once reconnected'
      : "the primary keeps taking writes (the sync standby may change when the isolated member's key expires); the replica keeps streaming and reappears in the DCS",
    ...(who === 'replica' ? { maxWriteGapMs: 5000 } : {}),
    needs: 'etcd3',
    async fault(ctx) {
      const target = who === 'primary' ? ctx.primary : ctx.rng.pick(ctx.nodes.filter((n) => n !== ctx.primary));
      ctx.victims.push(target);
      const ms = faultDurationMs(ctx);
      target.etcdProxy!.blackhole();
      ctx.note(`${target.name}: link to etcd blackholed for ${ms} ms`);
      await sleep(ms);
    },
    async heal(ctx) {
      for (const v of ctx.victims) { v.etcdProxy?.heal(); ctx.note(`${v.name}: link to etcd restored`); }
    },
  };
}

export const isolatePrimary = isolate('primary');
export const isolateReplica = isolate('replica');

export const stopEtcd: Scenario = {
  name: 'stop-etcd',
  needs: 'etcd3',
  expected: 'without failsafe_mode the primary demotes by its lease deadline (read-only: writes fail, none is lost, no split brain); after etcd returns a leader is elected and the cluster heals',
  async fault(ctx) {
    const ms = faultDurationMs(ctx);
    await ctx.cluster.etcd.stop();
    ctx.note(`etcd stopped for ${ms} ms`);
    await sleep(ms);
  },
  async heal(ctx) {
    await ctx.cluster.etcd.restart();
    ctx.note('etcd started again');
  },
};

export const switchoverUnderLoad: Scenario = {
  name: 'switchover-under-load',
  expected: 'the primary demotes gracefully and the candidate takes over; the old primary follows it; the writer sees a short outage only',
  async fault(ctx) {
    const candidate = await switchoverCandidate(ctx);
    await requestSwitchover(ctx, candidate, true);
  },
};

export const killNewPrimaryDuringSwitchover: Scenario = {
  name: 'kill-new-primary-during-switchover',
  expected: 'whatever step the switchover reached, at most one node takes writes; in strict mode the cluster may wait for the killed candidate (the only member allowed to promote) and heals once it is back',
  async fault(ctx) {
    const candidate = await switchoverCandidate(ctx);
    const when = ctx.rng.pick(['early', 'on-promotion', 'after-promotion'] as const);
    ctx.note(`kill point: ${when}`);
    await requestSwitchover(ctx, candidate, false);
    if (when === 'early') await sleep(ctx.rng.intBetween(0, 1500));
    else {
      const p = await otherPrimary(ctx, ctx.nodes.filter((n) => n !== candidate), 2 * ctx.ttlMs);
      ctx.note(p ? `${candidate.name} answers /primary 200` : `${candidate.name} did not become primary within ${2 * ctx.ttlMs / 1000} s`);
      if (when === 'after-promotion') await sleep(ctx.rng.intBetween(0, 1000));
    }
    ctx.victims.push(candidate);
    await candidate.killNode();
    const killedAt = performance.now();
    ctx.note(`${candidate.name}: agent and PostgreSQL SIGKILLed`);
    // Down long enough for its lease to expire in some rounds and not in others.
    const downMs = ctx.rng.intBetween(3000, Math.round(1.5 * ctx.ttlMs));
    const next = await otherPrimary(ctx, [candidate], downMs);
    ctx.note(next ? `${next.name} answers /primary 200` : `no other primary within ${downMs} ms`);
    const left = downMs - (performance.now() - killedAt);
    if (left > 0) await sleep(left);
  },
  heal: restartVictims,
};

export const restartAll: Scenario = {
  name: 'restart-all',
  expected: 'every node stops at once and starts again; one of them (in strict mode the former leader or a /sync member) becomes primary, the others follow',
  async fault(ctx) {
    const how = ctx.rng.pick(['graceful', 'crash'] as const);
    ctx.victims.push(...ctx.nodes);
    await Promise.all(ctx.nodes.map(async (n) => {
      await (how === 'graceful' ? n.stop() : n.killNode());
      ctx.note(`${n.name}: stopped`);
    }));
    ctx.note(`every node stopped (${how === 'graceful' ? 'SIGTERM to each agent' : 'SIGKILL of each agent and postmaster'})`);
    await sleep(ctx.rng.intBetween(500, 5000));
  },
  heal: restartVictims,
};

/** The Raft leader's node, made this run's victim, and how to name it in a note. */
async function raftLeaderVictim(ctx: ChaosContext): Promise<{ victim: AgentNode; label: string }> {
  const victim = await raftLeader(ctx);
  ctx.victims.push(victim);
  return { victim, label: `${victim.name} (Raft leader, PostgreSQL ${victim === ctx.primary ? 'primary' : 'replica'})` };
}

/** The node whose embedded Raft node leads (built-in Raft DCS only), asked of every node; throws if none does. */
async function raftLeader(ctx: ChaosContext): Promise<AgentNode> {
  for (let i = 0; i < 50; i++) {
    for (const n of ctx.nodes) {
      const r = await n.api('/raft').catch(() => null);
      if ((r?.body as { role?: string } | undefined)?.role === 'leader') return n;
    }
    await sleep(100);
  }
  throw new Error('no node reports itself Raft leader (GET /raft)');
}

export const killRaftLeader: Scenario = {
  name: 'kill-raft-leader',
  needs: 'raft',
  expected: "built-in Raft DCS: the node whose agent leads the Raft group dies (agent and PostgreSQL SIGKILLed; its sockets close). The others elect a new Raft leader at once; if it was the primary, a replica takes over after the leader key expires, else the primary keeps its key (a new Raft leader restarts every lease's countdown) and never demotes",
  async fault(ctx) {
    const { victim, label } = await raftLeaderVictim(ctx);
    await victim.killNode();
    ctx.note(`${label}: agent and PostgreSQL SIGKILLed`);
    if (victim === ctx.primary) await awaitFailover(ctx, victim);
    else await sleep(ctx.rng.intBetween(2000, 6000));
  },
  heal: restartVictims,
};

export const freezeRaftLeader: Scenario = {
  name: 'freeze-raft-leader',
  needs: 'raft',
  expected: "built-in Raft DCS: the Raft leader's agent is SIGSTOPped, so its connections stay open and only the election timeout reveals it. The others elect a new Raft leader; if the frozen agent ran the primary, its fence stops PostgreSQL before a replica promotes; after SIGCONT the old Raft leader steps down and its agent follows",
  async fault(ctx) {
    const { victim, label } = await raftLeaderVictim(ctx);
    const ms = faultDurationMs(ctx);
    victim.proc!.child.kill('SIGSTOP');
    ctx.note(`${label}: agent SIGSTOPped for ${ms} ms`);
    await sleep(ms);
  },
  async heal(ctx) {
    for (const v of ctx.victims) { v.proc?.child.kill('SIGCONT'); ctx.note(`${v.name}: agent SIGCONT`); }
  },
};

/** Every scenario, in the order the suites run them. */
export const ALL_SCENARIOS: readonly Scenario[] = [
  killPrimaryNode, killPostgres, killPrimaryAgent, freezePrimaryAgent, switchoverUnderLoad,
  isolatePrimary, isolateReplica, stopEtcd, killNewPrimaryDuringSwitchover, restartAll,
  killRaftLeader, freezeRaftLeader,
];

/** The scenarios CHAOS_ONLY names (comma-separated), or all; an unknown name is an error naming it. */
export function selectScenarios(only = process.env.CHAOS_ONLY): readonly Scenario[] {
  if (!only) return ALL_SCENARIOS;
  const names = only.split(',').map((x) => x.trim()).filter(Boolean);
  for (const n of names) {
    if (!ALL_SCENARIOS.some((s) => s.name === n)) throw new Error(`CHAOS_ONLY: no scenario ${JSON.stringify(n)}; expected one of ${ALL_SCENARIOS.map((s) => s.name).join(', ')}`);
  }
  return ALL_SCENARIOS.filter((s) => names.includes(s.name));
}
