import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { committedIndex, naiveCommittedIndex, requiredAcks, voteResult, type CommitRule } from '../../src/raft/quorum/quorum.js';

const rules: CommitRule[] = [{ kind: 'majority' }, { kind: 'all' }, { kind: 'factor', factor: 1 }, { kind: 'factor', factor: 3 }, { kind: 'factor', factor: 4 }, { kind: 'factor', factor: 9 }];

describe('quorum arithmetic', () => {
  test('required acks per rule', () => {
    assert.equal(requiredAcks(3, { kind: 'majority' }), 2);
    assert.equal(requiredAcks(4, { kind: 'majority' }), 3);
    assert.equal(requiredAcks(5, { kind: 'all' }), 5);
    assert.equal(requiredAcks(5, { kind: 'factor', factor: 4 }), 4);
    // Never below a majority, never above the voter count.
    assert.equal(requiredAcks(5, { kind: 'factor', factor: 1 }), 3);
    assert.equal(requiredAcks(3, { kind: 'factor', factor: 5 }), 3);
    assert.equal(requiredAcks(0, { kind: 'majority' }), 0);
  });

  test('committedIndex agrees with the naive reference on random inputs', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(50), { maxLength: 9 }), fc.constantFrom(...rules), (matches, rule) => {
        assert.equal(committedIndex(matches, rule), naiveCommittedIndex(matches, rule));
      }),
      { numRuns: 5000 },
    );
  });

  test('a committed index is held by at least a majority of voters', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(50), { minLength: 1, maxLength: 9 }), fc.constantFrom(...rules), (matches, rule) => {
        const idx = committedIndex(matches, rule);
        assert.ok(matches.filter((m) => m >= idx).length >= Math.floor(matches.length / 2) + 1);
      }),
    );
  });

  test('elections: won, lost, pending', () => {
    const voters = ['a', 'b', 'c'];
    assert.equal(voteResult(voters, new Map([['a', true], ['b', true]])), 'won');
    assert.equal(voteResult(voters, new Map([['a', true]])), 'pending');
    assert.equal(voteResult(voters, new Map([['a', true], ['b', false], ['c', false]])), 'lost');
    // A learner's (or stranger's) vote does not count.
    assert.equal(voteResult(voters, new Map([['a', true], ['z', true]])), 'pending');
  });
});
