import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeMessage, describeReady } from '../../src/raft/core/describe.js';
import { RawNode } from '../../src/raft/core/raw-node.js';
import { MemoryStorage } from '../../src/raft/core/storage.js';
import { Prng } from './sim/prng.js';

function node(id: string, storage: MemoryStorage): RawNode {
  return new RawNode({ id, storage, rng: new Prng(3), electionTicks: 10, heartbeatTicks: 1 });
}

test('a two-node election renders as a stable transcript', () => {
  const sa = MemoryStorage.bootstrap(['a', 'b']);
  const sb = MemoryStorage.bootstrap(['a', 'b']);
  const a = node('a', sa);
  const b = node('b', sb);
  const out: string[] = [];
  const pump = (n: RawNode, s: MemoryStorage) => {
    const msgs = [];
    while (n.hasReady()) {
      const rd = n.ready();
      out.push(`${n.id}:\n${describeReady(rd)}`);
      s.append(rd.entries);
      if (rd.hardState) s.setHardState(rd.hardState);
      msgs.push(...rd.messages);
      n.advance(rd);
    }
    return msgs;
  };
  a.campaign();
  for (let round = 0; round < 6; round++) {
    for (const m of pump(a, sa)) b.step(m);
    for (const m of pump(b, sb)) a.step(m);
  }
  assert.equal(
    out.slice(0, 5).join('\n'),
    [
      'a:',
      'role: pre-candidate lead=-',
      'send: a->b pre-vote term=2 last=1/1',
      'b:',
      'send: b->a pre-vote-resp term=2 granted',
      'a:',
      'role: candidate lead=-',
      'hard state: term=2 vote=a commit=1',
      'send: a->b vote term=2 last=1/1',
      'b:',
      'hard state: term=2 vote=a commit=1',
      'send: b->a vote-resp term=2 granted',
      'a:',
      'role: leader lead=a',
      'entries: 2/2 noop',
      'send: a->b append term=2 prev=1/1 commit=1 entries=[2/2 noop]',
      'event: became leader at term 2',
    ].join('\n'),
  );
  assert.equal(a.basicStatus().commit, 2);
  assert.equal(b.basicStatus().commit, 2);
  assert.equal(
    describeMessage({ from: 'a', to: 'b', term: 3, type: 'append-resp', index: 7, reject: true, hintTerm: 2, hintIndex: 5 }),
    'a->b append-resp term=3 rejected=7 hint=2/5',
  );
});
