import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KvStateMachine } from '../../../src/raft/kv/state-machine.js';
import type { AppliedChange, KvEvent } from '../../../src/raft/kv/types.js';
import { Driver } from './support.js';

const brief = (events: readonly KvEvent[]) => events.map((e) => `${e.kind} ${e.key} @${e.revision}`);

describe('watch by revision', () => {
  test('returns the changes after a revision under a prefix, including deletes by lease revocation', () => {
    const d = new Driver();
    const lease = d.grant(30_000).id;
    d.put('/s/config', '{}'); // rev 1
    const from = d.sm.revision;
    d.put('/s/leader', 'a', lease); // rev 2
    d.put('/other/x', 'y'); // rev 3, outside the prefix
    d.put('/s/members/a', '{}', lease); // rev 4
    d.revoke(lease); // rev 5: deletes /s/leader and /s/members/a
    const w = d.sm.watch(from, '/s/');
    assert.equal(w.kind, 'events');
    assert.ok(w.kind === 'events');
    assert.deepEqual(brief(w.events), ['put /s/leader @2', 'put /s/members/a @4', 'delete /s/leader @5', 'delete /s/members/a @5']);
    assert.equal(w.revision, 5);
    const del = w.events[2];
    assert.ok(del?.kind === 'delete' && del.prev.value === 'a' && del.prev.lease === lease);
    // Up to date: nothing after the current revision, and nothing for a future one.
    assert.deepEqual(d.sm.watch(5, '/s/'), { kind: 'events', events: [], revision: 5 });
    assert.deepEqual(d.sm.watch(99, ''), { kind: 'events', events: [], revision: 5 });
  });

  test('a put event carries the previous value', () => {
    const d = new Driver();
    d.put('/k', 'a');
    d.put('/k', 'b');
    const w = d.sm.watch(1, '/k');
    assert.ok(w.kind === 'events' && w.events[0]?.kind === 'put');
    assert.equal(w.events[0].prev?.value, 'a');
    assert.equal(w.events[0].kv.value, 'b');
  });

  test('watching from before the retained history answers compacted', () => {
    const d = new Driver(new KvStateMachine({ historyEvents: 4 }));
    for (let i = 1; i <= 3; i++) d.put(`/k${i}`, 'v'); // revs 1..3, one event each
    assert.equal(d.sm.watch(0, '').kind, 'events');
    // Rev 4 writes two events: the ring (4) drops rev 1.
    d.ok([], [{ kind: 'put', key: '/a', value: '1' }, { kind: 'put', key: '/b', value: '2' }]);
    assert.deepEqual(d.sm.watch(0, ''), { kind: 'compacted', compactRevision: 1, revision: 4 });
    const ok = d.sm.watch(1, '');
    assert.ok(ok.kind === 'events');
    assert.deepEqual(brief(ok.events), ['put /k2 @2', 'put /k3 @3', 'put /a @4', 'put /b @4']);
    // Rev 5 evicts rev 2's event: watching after rev 1 is no longer possible.
    d.put('/c', '3');
    assert.equal(d.sm.watch(1, '').kind, 'compacted');
    assert.equal(d.sm.compactRevision, 2);
    // Revs 6 and 7 evict /k3@3 and /a@4 while /b@4 stays: rev 4 is incomplete, so watching after
    // rev 3 is refused, and watching after rev 4 must not leak the leftover /b@4.
    d.put('/d', '4');
    d.put('/e', '5');
    assert.equal(d.sm.watch(3, '').kind, 'compacted');
    const tail = d.sm.watch(4, '');
    assert.ok(tail.kind === 'events');
    assert.deepEqual(brief(tail.events), ['put /c @5', 'put /d @6', 'put /e @7']);
  });

  test('a machine restored from a snapshot says compacted for revisions before it', () => {
    const d = new Driver();
    d.put('/a', '1');
    d.put('/a', '2');
    const restored = KvStateMachine.restore(d.sm.snapshot());
    assert.deepEqual(restored.watch(1, ''), { kind: 'compacted', compactRevision: 2, revision: 2 });
    const after = new Driver(restored);
    after.put('/a', '3');
    const w = restored.watch(2, '');
    assert.ok(w.kind === 'events');
    assert.deepEqual(brief(w.events), ['put /a @3']);
  });

  test('listeners hear every change once, after the state changed; unsubscribe stops them', () => {
    const d = new Driver();
    const heard: AppliedChange[] = [];
    const stop = d.sm.subscribe((c) => {
      assert.equal(d.sm.revision, c.revision, 'state already updated');
      heard.push(c);
    });
    d.put('/a', '1');
    d.ok([], [{ kind: 'range', key: '/a' }]); // no change: no notification
    const lease = d.grant(5_000).id; // no key change
    d.put('/b', '2', lease);
    d.revoke(lease);
    stop();
    d.put('/c', '3');
    assert.deepEqual(heard.map((c) => [c.index, c.revision, brief(c.events)]), [
      [1, 1, ['put /a @1']],
      [4, 2, ['put /b @2']],
      [5, 3, ['delete /b @3']],
    ]);
  });

  test('a throwing listener does not stop the others and apply rethrows its error', () => {
    const d = new Driver();
    let second = 0;
    d.sm.subscribe(() => { throw new Error('listener bug'); });
    d.sm.subscribe(() => { second += 1; });
    assert.throws(() => d.put('/a', '1'), /listener bug/);
    assert.equal(second, 1);
    assert.equal(d.sm.get('/a')?.value, '1');
  });
});
