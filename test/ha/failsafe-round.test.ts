/**
 * Failsafe mode's I/O half without a network: the round of POST /failsafe (injected poster), the
 * confirmation time it records, the agent's lease deadline and deadline timer honouring it, and the
 * receiver's verdicts through the agent's REST backend.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { validateConfig, type Config } from '../../src/config/index.js';
import type { Dcs } from '../../src/dcs/port.js';
import { Agent } from '../../src/ha/agent.js';
import { AgentApi } from '../../src/ha/api-backend.js';
import {
  failsafeRound, failsafeTimeoutMs, failsafeUrl, FailsafeState, failsafeVerdict,
  type FailsafeBody, type FailsafePoster, type PostAnswer,
} from '../../src/ha/failsafe.js';
import type { PostgresControl } from '../../src/postgres/index.js';
import type { PgProbe } from '../../src/postgres/types.js';
import { minimalConfig } from '../config/helpers.js';

const BODY: FailsafeBody = { name: 'a', conn_url: 'postgres://127.0.0.1:5432/postgres', api_url: 'http://127.0.0.1:8008/patroni' };
const LIST = { a: 'http://127.0.0.1:8008/patroni', b: 'http://127.0.0.1:8009/patroni', c: 'http://127.0.0.1:8010/patroni' };

/** A poster answering per port: 'ok', an HTTP answer, or a rejection; records every URL it was sent to. */
function poster(by: Record<string, PostAnswer | 'ok' | Error>, sent: string[] = []): FailsafePoster {
  return async (url) => {
    sent.push(url);
    const a = by[new URL(url).port] ?? 'ok';
    if (a instanceof Error) throw a;
    return a === 'ok' ? { status: 200, text: 'Accepted' } : a;
  };
}

const timeout = (): Error => Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
const round = (list: Record<string, string> | null, post: FailsafePoster, me = 'a') =>
  failsafeRound({ list, me, body: BODY, timeoutMs: 1000, post, now: () => performance.now() });

describe('failsafe round', () => {
  test('every other member accepts: ok, and nobody posts to itself', async () => {
    const sent: string[] = [];
    const r = await round(LIST, poster({}, sent));
    assert.deepEqual(r, { ok: true, detail: 'all 2 members confirmed failsafe' });
    assert.deepEqual(sent.sort(), ['http://127.0.0.1:8009/failsafe', 'http://127.0.0.1:8010/failsafe']);
  });

  test('one member times out: not ok, the detail names it and why', async () => {
    const r = await round(LIST, poster({ 8010: timeout() }));
    assert.deepEqual(r, { ok: false, detail: 'member c (timeout) did not confirm' });
  });

  test('a refusal is final (no retry) and its text is reported', async () => {
    const sent: string[] = [];
    const r = await round(LIST, poster({ 8009: { status: 500, text: 'Running as a leader' } }, sent));
    assert.equal(r.ok, false);
    assert.match(r.detail, /b \(HTTP 500 Running as a leader\)/);
    assert.equal(sent.filter((u) => u.includes('8009')).length, 1);
  });

  test('200 with another body is not a confirmation', async () => {
    const r = await round(LIST, poster({ 8009: { status: 200, text: '{"message":"ok"}' } }));
    assert.equal(r.ok, false);
  });

  test('a refused connection is retried once within the budget', async () => {
    let calls = 0;
    const flaky: FailsafePoster = async () => {
      calls++;
      if (calls === 1) throw new Error('connect ECONNREFUSED 127.0.0.1:8009');
      return { status: 200, text: 'Accepted' };
    };
    const r = await round({ a: LIST.a, b: LIST.b }, flaky);
    assert.deepEqual(r, { ok: true, detail: 'all 1 member confirmed failsafe' });
    assert.equal(calls, 2);
  });

  test('no known list, or a list without me, is not a confirmation; a list of only me is', async () => {
    assert.equal((await round(null, poster({}))).ok, false);
    assert.match((await round({ b: LIST.b }, poster({}))).detail, /not in the last known \/failsafe member list/);
    assert.deepEqual(await round({ a: LIST.a }, poster({})), { ok: true, detail: 'no other member is listed in /failsafe' });
  });

  test('the URL is derived from api_url, and the timeout from the config', () => {
    assert.equal(failsafeUrl('http://10.0.0.1:8008/patroni'), 'http://10.0.0.1:8008/failsafe');
    assert.equal(failsafeUrl('https://[::1]:8008'), 'https://[::1]:8008/failsafe');
    assert.equal(failsafeTimeoutMs({ retryTimeoutSeconds: 10, loopWaitSeconds: 10 }), 10_000);
    assert.equal(failsafeTimeoutMs({ retryTimeoutSeconds: 3, loopWaitSeconds: 2 }), 2_000);
  });
});

describe('failsafe confirmation time', () => {
  test('a confirmed round records the time it STARTED; a failed one records nothing', async () => {
    let t = 1000;
    const s = new FailsafeState(() => t);
    s.known = LIST;
    const slow = (ok: boolean): FailsafePoster => async () => { t += 700; return ok ? { status: 200, text: 'Accepted' } : { status: 409, text: 'no' }; };
    assert.equal((await s.round({ me: 'a', body: BODY, timeoutMs: 2000, post: slow(true) })).ok, true);
    assert.equal(s.confirmedAt, 1000);
    assert.equal(s.active, true);
    const before = s.confirmedAt;
    assert.equal((await s.round({ me: 'a', body: BODY, timeoutMs: 2000, post: slow(false) })).ok, false);
    assert.equal(s.confirmedAt, before);
    assert.equal(s.active, false);
    s.lockLost();
    assert.equal(s.confirmedAt, null);
  });
});

describe('receiver verdicts', () => {
  const base = { failsafeMode: true, runningPrimary: false, knownLeader: 'a' };
  test('Patroni codes: 200 Accepted, 500 when primary, 502 when off; 409 for a sender that is not the leader', () => {
    assert.deepEqual(failsafeVerdict(base, 'a'), { status: 200, message: 'Accepted' });
    assert.deepEqual(failsafeVerdict({ ...base, knownLeader: null }, 'a'), { status: 200, message: 'Accepted' });
    assert.equal(failsafeVerdict({ ...base, runningPrimary: true }, 'a').status, 500);
    assert.equal(failsafeVerdict({ ...base, failsafeMode: false }, 'a').status, 502);
    assert.match(failsafeVerdict(base, 'c').message, /leader key names a, not c/);
  });
});

// ---- The agent: its lease deadline, deadline timer and REST backend, with fakes (no PostgreSQL, no DCS).

function config(): Config {
  const raw = minimalConfig() as { bootstrap: { dcs: Record<string, unknown> }; name: string };
  raw.name = 'a';
  raw.bootstrap.dcs = { ttl: 10, loop_wait: 2, retry_timeout: 3, failsafe_mode: true };
  const r = validateConfig(raw, { checkBinaries: false });
  assert.ok(r.config, JSON.stringify(r.errors));
  return r.config;
}

/** The probe fields the code under test reads. */
const probe = (inRecovery: boolean): PgProbe =>
  ({ running: true, inRecovery, dataDir: 'initialized', replication: [], pendingRestart: [], timeline: 1, walPosition: 0, sysid: null }) as unknown as PgProbe;

const agents: Agent[] = [];
after(() => { for (const a of agents) a.setHoldsLock(false); });

/** An agent whose lease was confirmed so that its deadline is `inMs` away; pg.stop calls are recorded. */
function agentWithDeadlineIn(inMs: number, post: FailsafePoster) {
  const stops: string[] = [];
  const ttlMs = 10_000;
  const marginMs = 1000; // agent.ts: min(5 s, max(0.5 s, ttl * 100 ms))
  const confirmed = performance.now() - ttlMs + marginMs + inMs;
  const dcs = { leaseConfirmedAt: () => confirmed } as unknown as Dcs;
  const pg = { stop: async (mode: string) => { stops.push(mode); return true; } } as unknown as PostgresControl;
  const agent = new Agent({ config: config(), dcs, pg, log: pino({ level: 'silent' }), failsafePoster: post });
  agents.push(agent);
  agent.failsafe.state.known = LIST;
  agent.probe = probe(false);
  agent.setHoldsLock(true);
  return { agent, stops };
}

const roundOf = (agent: Agent) => agent.failsafe.maybeRound(
  { dcsError: 'etcd down', settings: agent.settings, lockValid: agent.lockValid(), runningPrimary: true, deadline: agent.leaseDeadline() },
  'a', BODY,
);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('agent lease deadline with failsafe', () => {
  test('a confirmed round extends the deadline to round start + ttl - margin; the deadline timer then does not fire', async () => {
    const { agent, stops } = agentWithDeadlineIn(250, poster({}));
    const old = agent.leaseDeadline()!;
    const t0 = performance.now();
    assert.equal((await roundOf(agent))?.ok, true);
    const d = agent.leaseDeadline()!;
    assert.ok(d > old + 5000, 'extended by seconds');
    assert.ok(d >= t0 + 9000 && d <= performance.now() + 9000, `deadline ${d - t0} ms after the round started`);
    await sleep(450);
    assert.deepEqual(stops, []);
    assert.equal(agent.lockValid(), true);
    assert.equal(new AgentApi(agent).status().failsafe_mode_is_active, true);
  });

  test('a lost round does not extend it: the deadline timer stops PostgreSQL (immediate)', async () => {
    const { agent, stops } = agentWithDeadlineIn(250, poster({ 8010: timeout() }));
    const old = agent.leaseDeadline();
    assert.equal((await roundOf(agent))?.ok, false);
    assert.equal(agent.leaseDeadline(), old);
    await sleep(450);
    assert.deepEqual(stops, ['immediate']);
    assert.equal(agent.lockValid(), false);
    assert.equal(new AgentApi(agent).status().failsafe_mode_is_active, undefined);
  });

  test('no round without failsafe_mode, or once the deadline has passed', async () => {
    const { agent } = agentWithDeadlineIn(5000, poster({}));
    const cond = { dcsError: 'etcd down', settings: { ...agent.settings, failsafeMode: false }, lockValid: true, runningPrimary: true, deadline: agent.leaseDeadline() };
    assert.equal(await agent.failsafe.maybeRound(cond, 'a', BODY), null);
    assert.equal(await agent.failsafe.maybeRound({ ...cond, settings: agent.settings, lockValid: false }, 'a', BODY), null);
    assert.equal(agent.failsafe.state.confirmedAt, null);
  });
});

describe('agent as a receiver of POST /failsafe', () => {
  test('accepts the leader it knows and remembers it; refuses others and refuses while primary', () => {
    const { agent } = agentWithDeadlineIn(60_000, poster({}));
    agent.setHoldsLock(false);
    agent.view = { leader: { member: 'b', version: '1', session: null } } as unknown as Agent['view'];
    agent.probe = probe(true);
    const api = new AgentApi(agent);
    assert.deepEqual(api.failsafe({ name: 'c', api_url: LIST.c }), { status: 409, body: 'the leader key names b, not c' });
    const senderName = (): string | null => agent.failsafe.state.sender?.name ?? null;
    assert.equal(senderName(), null);
    assert.deepEqual(api.failsafe({ name: 'b', api_url: LIST.b }), { status: 200, body: 'Accepted' });
    assert.equal(senderName(), 'b');
    agent.probe = probe(false);
    assert.equal(api.failsafe({ name: 'b', api_url: LIST.b }).status, 500);
    agent.settings = { ...agent.settings, failsafeMode: false };
    assert.equal(api.failsafe({ name: 'b', api_url: LIST.b }).status, 502);
  });
});
