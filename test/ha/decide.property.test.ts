/**
 * Properties of decide() over random cycles (fast-check): the ordering and safety guarantees the
 * executor relies on hold for every input, not just the table rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ClusterView } from '../../src/dcs/types.js';
import { decide } from '../../src/ha/decide.js';
import type { Decision, HaSettings, LocalFacts } from '../../src/ha/types.js';
import { SYSID } from './builders.js';
import { localArb, nowArb, settingsArb, viewArb } from './arbitraries.js';

interface Cycle { view: ClusterView; local: LocalFacts; settings: HaSettings; now: { mono: number; wall: number } }

// A fixed seed keeps CI deterministic; change it locally to explore further.
const RUNS = { numRuns: 800, seed: 20240501 };
const cycle: fc.Arbitrary<Cycle> = fc.record({ view: viewArb, local: localArb, settings: settingsArb, now: nowArb });
const decideOf = (c: Cycle): Decision => decide(c.view, c.local, c.settings, c.now);
const withLocal = (c: Cycle, over: Partial<LocalFacts>, pg: Partial<LocalFacts['pg']> = {}): Cycle =>
  ({ ...c, local: { ...c.local, ...over, pg: { ...c.local.pg, ...pg } } });

test('promote only ever comes after acquire-lock or renew-lock in the same plan', () => {
  fc.assert(fc.property(cycle, (c) => {
    const kinds = decideOf(c).actions.map((a) => a.kind);
    const p = kinds.indexOf('promote');
    if (p >= 0) assert.ok(kinds.slice(0, p).some((k) => k === 'acquire-lock' || k === 'renew-lock'), kinds.join(','));
  }), RUNS);
});

test('a node tagged nofailover never races for a free lock (unless it is the running primary in pause)', () => {
  const arb = cycle.map((c) => ({ ...withLocal(c, { tags: { ...c.local.tags, nofailover: true } }), view: { ...c.view, leader: null } }));
  fc.assert(fc.property(arb, (c) => {
    const kinds = decideOf(c).actions.map((a) => a.kind);
    const runningPrimaryInPause = c.settings.pause && c.local.pg.running && !c.local.pg.inRecovery;
    if (!runningPrimaryInPause) assert.ok(!kinds.includes('acquire-lock'), kinds.join(','));
    assert.ok(!kinds.includes('promote'), kinds.join(','));
  }), RUNS);
});

test('with the DCS unreachable a plan never takes, renews or promotes on the lock', () => {
  const arb = cycle.map((c) => withLocal(c, { dcsError: c.local.dcsError ?? 'request timed out' }));
  fc.assert(fc.property(arb, (c) => {
    const kinds = decideOf(c).actions.map((a) => a.kind);
    for (const k of ['acquire-lock', 'renew-lock', 'promote', 'acquire-initialize'] as const) assert.ok(!kinds.includes(k), kinds.join(','));
  }), RUNS);
});

test('past the lease deadline a running primary that believes it leads demotes immediately, and does nothing else', () => {
  const arb = fc.tuple(cycle, fc.nat(60_000)).map(([c, overdue]) =>
    withLocal(c, { holdsLock: true, leaseDeadline: c.now.mono - overdue }, { dataDir: 'initialized', running: true, inRecovery: false }));
  fc.assert(fc.property(arb, (c) => {
    assert.deepEqual(decideOf(c).actions, [{ kind: 'demote', mode: 'immediate-nolock' }]);
  }), RUNS);
});

test('a running primary the view does not name as leader stops being writable or takes the lock', () => {
  const arb = cycle.map((c) => withLocal(c, {}, { dataDir: 'initialized', running: true, inRecovery: false, sysid: c.local.pg.sysid ?? SYSID }));
  fc.assert(fc.property(arb, (c) => {
    const l = c.local;
    const mismatch = c.view.initialize && c.view.initialize.value !== '' && c.view.initialize.value !== l.pg.sysid;
    fc.pre(l.pg.running && !l.pg.inRecovery && c.view.leader?.member !== l.name && !c.settings.pause
      && l.task?.kind !== 'bootstrap' && !mismatch);
    const kinds = decideOf(c).actions.map((a) => a.kind);
    assert.ok(kinds.includes('demote') || kinds[0] === 'acquire-lock' || (kinds[0] === 'write-initialize' && kinds[1] === 'acquire-lock'), kinds.join(','));
  }), RUNS);
});

test('every decision has a one-line reason and deciding twice gives the same answer', () => {
  fc.assert(fc.property(cycle, (c) => {
    const d = decideOf(c);
    assert.ok(d.reason.length > 10 && !d.reason.includes('\n'), d.reason);
    assert.deepEqual(decideOf(c), d);
  }), RUNS);
});
