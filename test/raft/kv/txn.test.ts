import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KvStateMachine } from '../../../src/raft/kv/state-machine.js';
import { Driver } from './support.js';

describe('compare-and-set transactions (etcd semantics)', () => {
  test('create == 0 succeeds only while the key is absent', () => {
    const d = new Driver();
    const createOnly = () => d.ok([{ key: '/leader', target: 'create', op: '==', value: 0 }], [{ kind: 'put', key: '/leader', value: 'a' }], [{ kind: 'range', key: '/leader' }]);
    const first = createOnly();
    assert.equal(first.succeeded, true);
    const second = createOnly();
    assert.equal(second.succeeded, false);
    // The failure branch ran and shows the current holder.
    assert.deepEqual(second.responses, [{ kind: 'range', kvs: [d.sm.get('/leader')] }]);
    assert.equal(d.sm.get('/leader')?.value, 'a');
  });

  test('mod_revision compare: a stale revision fails, the current one succeeds', () => {
    const d = new Driver();
    const v1 = d.put('/config', '{"ttl":30}').revision;
    const v2 = d.put('/config', '{"ttl":20}').revision;
    const stale = d.ok([{ key: '/config', target: 'mod', op: '==', value: v1 }], [{ kind: 'put', key: '/config', value: 'stale' }]);
    assert.equal(stale.succeeded, false);
    assert.equal(stale.revision, v2, 'a failed compare writes nothing');
    const fresh = d.ok([{ key: '/config', target: 'mod', op: '==', value: v2 }], [{ kind: 'put', key: '/config', value: 'fresh' }]);
    assert.equal(fresh.succeeded, true);
    assert.equal(d.sm.get('/config')?.value, 'fresh');
    assert.equal(d.sm.get('/config')?.modRevision, fresh.revision);
  });

  test('value compare, and a value compare on an absent key is false for == and != alike', () => {
    const d = new Driver();
    d.put('/leader', 'a');
    const eq = (value: string) => d.ok([{ key: '/leader', target: 'value', op: '==', value }], []).succeeded;
    assert.equal(eq('a'), true);
    assert.equal(eq('b'), false);
    assert.equal(d.ok([{ key: '/leader', target: 'value', op: '!=', value: 'b' }], []).succeeded, true);
    assert.equal(d.ok([{ key: '/absent', target: 'value', op: '==', value: '' }], []).succeeded, false);
    assert.equal(d.ok([{ key: '/absent', target: 'value', op: '!=', value: 'x' }], []).succeeded, false);
  });

  test('exists, version and lease targets; all compares must hold', () => {
    const d = new Driver();
    const lease = d.grant(30_000).id;
    d.put('/m', 'x', lease);
    d.put('/m', 'y', lease);
    const holds = (...c: Parameters<Driver['ok']>[0]) => d.ok(c, []).succeeded;
    assert.equal(holds({ key: '/m', target: 'exists', op: '==', value: true }), true);
    assert.equal(holds({ key: '/nope', target: 'exists', op: '==', value: false }), true);
    assert.equal(holds({ key: '/m', target: 'version', op: '==', value: 2 }), true);
    assert.equal(holds({ key: '/m', target: 'lease', op: '==', value: lease }), true);
    assert.equal(holds({ key: '/nope', target: 'lease', op: '==', value: 0 }), true);
    assert.equal(holds({ key: '/m', target: 'version', op: '==', value: 2 }, { key: '/m', target: 'value', op: '==', value: 'x' }), false);
  });

  test('a put naming a missing lease fails the whole transaction and changes nothing', () => {
    const d = new Driver();
    d.put('/a', '1');
    const before = d.sm.snapshot();
    const r = d.txn([], [{ kind: 'put', key: '/b', value: '2' }, { kind: 'put', key: '/c', value: '3', lease: 999 }]);
    assert.equal(r.kind, 'error');
    assert.ok(r.kind === 'error' && r.code === 'lease-not-found' && r.message.includes('"/c"') && r.message.includes('999'), JSON.stringify(r));
    assert.equal(d.sm.get('/b'), null);
    // Only the applied index moved.
    assert.deepEqual(JSON.parse(new TextDecoder().decode(d.sm.snapshot())).keys, JSON.parse(new TextDecoder().decode(before)).keys);
  });
});

describe('revisions and versions', () => {
  test('one revision per writing transaction; versions count writes; delete resets', () => {
    const d = new Driver();
    assert.equal(d.sm.revision, 0);
    const r1 = d.put('/k', 'a');
    assert.equal(r1.revision, 1);
    assert.deepEqual(d.sm.get('/k'), { key: '/k', value: 'a', createRevision: 1, modRevision: 1, version: 1, lease: 0 });
    d.put('/k', 'b');
    assert.deepEqual(d.sm.get('/k'), { key: '/k', value: 'b', createRevision: 1, modRevision: 2, version: 2, lease: 0 });
    // Several writes in one transaction share one revision.
    const multi = d.ok([], [{ kind: 'put', key: '/x', value: '1' }, { kind: 'put', key: '/y', value: '2' }, { kind: 'delete', key: '/k' }]);
    assert.equal(multi.revision, 3);
    assert.equal(d.sm.get('/x')?.modRevision, 3);
    assert.equal(d.sm.get('/y')?.modRevision, 3);
    assert.equal(d.sm.get('/k'), null);
    // Re-created: a fresh create revision and version 1.
    d.put('/k', 'c');
    assert.deepEqual(d.sm.get('/k'), { key: '/k', value: 'c', createRevision: 4, modRevision: 4, version: 1, lease: 0 });
  });

  test('reads, failed compares and deletes of absent keys do not bump the revision', () => {
    const d = new Driver();
    d.put('/k', 'a');
    assert.equal(d.ok([], [{ kind: 'range', prefix: '/' }]).revision, 1);
    assert.equal(d.ok([{ key: '/k', target: 'mod', op: '==', value: 99 }], [{ kind: 'put', key: '/k', value: 'z' }]).revision, 1);
    const del = d.ok([], [{ kind: 'delete', key: '/missing' }, { kind: 'deletePrefix', prefix: '/nothing/' }]);
    assert.equal(del.revision, 1);
    assert.deepEqual(del.responses, [{ kind: 'delete', deleted: 0 }, { kind: 'delete', deleted: 0 }]);
  });

  test('ops see earlier ops of the same transaction; deletePrefix and range by prefix', () => {
    const d = new Driver();
    const r = d.ok([], [
      { kind: 'put', key: '/s/members/a', value: '1' },
      { kind: 'put', key: '/s/members/b', value: '2' },
      { kind: 'put', key: '/s/leader', value: 'a' },
      { kind: 'range', prefix: '/s/members/' },
      { kind: 'deletePrefix', prefix: '/s/members/' },
      { kind: 'range', prefix: '/s/' },
    ]);
    assert.equal(r.responses[3]?.kind === 'range' && r.responses[3].kvs.map((kv) => kv.key).join(), '/s/members/a,/s/members/b');
    assert.deepEqual(r.responses[4], { kind: 'delete', deleted: 2 });
    assert.equal(r.responses[5]?.kind === 'range' && r.responses[5].kvs.map((kv) => kv.key).join(), '/s/leader');
    assert.deepEqual(d.sm.range({ prefix: '/s/' }).kvs.map((kv) => kv.key), ['/s/leader']);
  });

  test('a put returns the previous value; a put without a lease unbinds the key', () => {
    const d = new Driver();
    const lease = d.grant(10_000).id;
    d.put('/k', 'a', lease);
    const r = d.put('/k', 'b');
    assert.equal(r.responses[0]?.kind === 'put' && r.responses[0].prev?.value, 'a');
    assert.equal(d.sm.get('/k')?.lease, 0);
    assert.deepEqual(d.sm.lease(lease)?.keys, []);
  });
});

describe('apply bookkeeping', () => {
  test('replayed indexes are skipped; malformed entries are error results on every replica', () => {
    const d = new Driver();
    d.put('/k', 'a');
    const replay = d.sm.apply(1, new Uint8Array());
    assert.deepEqual(replay, { kind: 'skipped', index: 1, revision: 1 });
    const bad = d.sm.apply(2, new TextEncoder().encode('{"at":1,"cmd":{"kind":"txn"}}'));
    assert.equal(bad.kind, 'error');
    assert.ok(bad.kind === 'error' && bad.code === 'bad-command' && bad.message.includes('compare'), JSON.stringify(bad));
    assert.equal(d.sm.appliedIndex, 2);
    const garbage = d.sm.apply(3, Uint8Array.of(0xff, 0xfe));
    assert.equal(garbage.kind === 'error' && garbage.code, 'bad-command');
    assert.equal(d.sm.revision, 1);
    // An empty entry (a new leader's no-op) only moves the applied index.
    assert.deepEqual(d.sm.apply(4, new Uint8Array()), { kind: 'skipped', index: 4, revision: 1 });
    assert.equal(d.sm.appliedIndex, 4);
    // Two machines fed the same bad entries agree.
    const other = new KvStateMachine();
    const again = new Driver(other);
    again.put('/k', 'a');
    other.apply(2, new TextEncoder().encode('{"at":1,"cmd":{"kind":"txn"}}'));
    other.apply(3, Uint8Array.of(0xff, 0xfe));
    other.apply(4, new Uint8Array());
    assert.deepEqual(other.snapshot(), d.sm.snapshot());
  });
});
