/**
 * A server removed from the Raft cluster knows it: real RaftNodes in this process (TCP on loopback,
 * disk storage in temp dirs). Removed by a membership change while running, and by autoremove while
 * stopped, the server learns it from the members' answer to its pre-votes, stops campaigning, shows
 * `removed: true` in GET /raft's description, fails every client call (the DCS adapter with
 * DcsUnavailableError naming the fix) and logs that fix once at ERROR.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { RaftDcs } from '../../src/dcs/raft/adapter.js';
import { DcsUnavailableError } from '../../src/dcs/errors.js';
import type { RaftJob } from '../../src/raft/jobs.js';
import { RaftNode, RaftRemovedError, type RaftNodeOptions } from '../../src/raft/node.js';
import { freePort, sleep, waitFor } from '../support/ports.js';
import { RaftHarness } from './node-harness.js';

const PREFIX = '/service/removed-test/jobs/';

/** A logger that keeps every line, so tests can check what was logged and at which level. */
class RecordingLog {
  readonly lines: Array<{ level: string; msg: string; obj: object }> = [];
  info = (obj: object, msg: string) => { this.lines.push({ level: 'info', msg, obj }); };
  warn = (obj: object, msg: string) => { this.lines.push({ level: 'warn', msg, obj }); };
  error = (obj: object, msg: string) => { this.lines.push({ level: 'error', msg, obj }); };
  debug = (_obj: object, _msg: string) => {};
  at(level: string, re: RegExp) { return this.lines.filter((l) => l.level === level && re.test(l.msg)); }
}

/** RaftHarness plus the founding ids and one RecordingLog per node (kept across restarts). */
class Harness extends RaftHarness {
  readonly logs = new Map<string, RecordingLog>();
  ids: string[] = [];

  constructor() {
    super({ dirPrefix: 'raft-removed-', jobsPrefix: PREFIX, requestTimeoutMs: 1500, isLeader: (n) => n.isLeader && !n.removed });
  }

  async init(n: number): Promise<void> {
    this.ids = (await Promise.all(Array.from({ length: n }, () => freePort()))).map((p) => `127.0.0.1:${p}`);
  }

  async start(id: string, extra: Partial<RaftNodeOptions> = {}): Promise<RaftNode> {
    const log = this.logs.get(id) ?? new RecordingLog();
    this.logs.set(id, log);
    return this.startNode(id, { voters: this.ids, ...extra }, log);
  }
}

/** What a removed node must do, whichever way it was removed. */
async function assertKnowsRemoved(h: Harness, victim: RaftNode): Promise<void> {
  await waitFor(`${victim.id} to learn it was removed`, () => victim.removed, 8000, 20);
  const d = victim.describe();
  assert.equal(d.removed, true);
  await assert.rejects(victim.txn({ compare: [], success: [{ kind: 'put', key: '/x', value: 'y' }], failure: [] }), RaftRemovedError);
  const dcs = new RaftDcs(victim, { namespace: '/service/', scope: 'removed-test', member: 'm', ttlSeconds: 5, retryTimeoutMs: 1500, node: victim });
  await assert.rejects(dcs.getCluster(), (e: unknown) => e instanceof DcsUnavailableError && /^this node was removed from the Raft cluster/.test(e.message)
    && /raft\.join: true/.test(e.message) && new RegExp(`ctl raft add ${victim.id}`).test(e.message));
  // It stops campaigning: its term stays put over several election timeouts, and so does the leader's.
  const term = d.term;
  const leaderTerm = (await h.leader()).describe().term;
  await sleep(1500);
  assert.equal(victim.describe().term, term, 'a removed node does not campaign');
  assert.equal((await h.leader()).describe().term, leaderTerm, 'the cluster is not disturbed');
  assert.equal(victim.isLeader, false);
  const errors = h.logs.get(victim.id)!.at('error', /was removed from the Raft cluster/);
  assert.equal(errors.length, 1, 'the fix is logged once at ERROR');
  assert.match(errors[0]!.msg, /wipe its raft data_dir/);
}

describe('a removed raft node knows it', () => {
  const h = new Harness();
  process.on('exit', () => rmSync(h.root, { recursive: true, force: true }));
  after(() => h.cleanup());

  test('removed by a membership change while running', async () => {
    await h.init(3);
    await Promise.all(h.ids.map((id) => h.start(id)));
    const leader = await h.leader();
    const victim = h.nodes.get(h.ids.find((i) => i !== leader.id)!)!;
    assert.equal(victim.describe().removed, false);
    await leader.removePeer(victim.id);
    await assertKnowsRemoved(h, victim);
    // The survivors still commit.
    const r = await leader.txn({ compare: [], success: [{ kind: 'put', key: '/after', value: 'ok' }], failure: [] });
    assert.notEqual(r.kind, 'error');
    await h.cleanup();
  });
});

describe('autoremove (QLUSTER autoremove-enabled)', () => {
  const h = new Harness();
  process.on('exit', () => rmSync(h.root, { recursive: true, force: true }));
  after(() => h.cleanup());

  test('the leader removes a silent voter, records an autoremove job, logs a warning; the node learns it on restart', async () => {
    await h.init(3);
    // remove-interval 1 s (20 ticks of 50 ms); autoremove acts while more than 2 voters remain.
    const tuning = { autoremove: { minimumVoters: 2, afterTicks: 20 } };
    await Promise.all(h.ids.map((id) => h.start(id, { tuning })));
    const leader = await h.leader();
    const victimId = h.ids.find((i) => i !== leader.id)!;
    await h.stop(victimId);
    const job = await waitFor('an autoremove job to succeed', async () => {
      const all = await leader.jobs!.list();
      return all.find((j: RaftJob) => j.kind === 'autoremove' && j.state === 'succeeded') ?? null;
    }, 10_000, 100);
    assert.equal(job.params.peer, victimId);
    assert.match(job.message, new RegExp(`${victimId} is no longer a member \\(autoremove: it was silent for \\d+\\.\\d s\\)`));
    assert.ok((job.params.silent_ms ?? 0) >= 1000);
    assert.deepEqual([...leader.membership().voters].sort(), h.ids.filter((i) => i !== victimId).sort());
    assert.equal(h.logs.get(leader.id)!.at('warn', new RegExp(`raft autoremove: removing ${victimId}`)).length, 1);
    // Two voters left = autoremove-minimum: nobody else is removed, whatever happens next.
    const back = await h.start(victimId, { tuning });
    await assertKnowsRemoved(h, back);
    assert.equal(leader.membership().voters.length, 2);
  });
});
