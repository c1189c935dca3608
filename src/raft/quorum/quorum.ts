/**
 * Commit and vote arithmetic, nothing else: no messages, no log, no state.
 *
 * Elections and leadership checks always need a majority of voters. Commits need
 * `requiredAcks(voters, rule)` voters, which is never fewer than a majority, so every commit
 * quorum intersects every election quorum and Raft's leader-completeness argument still holds.
 */
import type { NodeId } from '../core/types.js';

/**
 * How many voters must store an entry before it commits (QLUSTER's `quorum-replication` and
 * `replication-factor`):
 * - `majority`: floor(n/2) + 1 (quorum-replication: true, replication-factor: 0);
 * - `all`: every voter (quorum-replication: false);
 * - `factor`: max(factor, majority) voters, capped at the number of voters so that shrinking the
 *   membership below `factor` cannot wedge the cluster (validateRaftSettings rejects a factor
 *   above the configured cluster size).
 */
export type CommitRule =
  | { readonly kind: 'majority' }
  | { readonly kind: 'all' }
  | { readonly kind: 'factor'; readonly factor: number };

export const MAJORITY: CommitRule = { kind: 'majority' };

export function majority(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** Voters that must hold an entry for it to commit; 0 for an empty voter set. */
export function requiredAcks(voters: number, rule: CommitRule): number {
  if (voters <= 0) return 0;
  switch (rule.kind) {
    case 'majority':
      return majority(voters);
    case 'all':
      return voters;
    case 'factor':
      return Math.min(voters, Math.max(rule.factor, majority(voters)));
  }
}

/**
 * The highest index that at least requiredAcks voters have matched, given each voter's match
 * index (one per voter). 0 when there are no voters.
 */
export function committedIndex(matches: readonly number[], rule: CommitRule): number {
  const k = requiredAcks(matches.length, rule);
  if (k === 0) return 0;
  const sorted = [...matches].sort((a, b) => b - a);
  return sorted[k - 1] ?? 0;
}

/** Reference version of committedIndex, kept deliberately naive for property tests. */
export function naiveCommittedIndex(matches: readonly number[], rule: CommitRule): number {
  const k = requiredAcks(matches.length, rule);
  if (k === 0) return 0;
  let best = 0;
  for (const candidate of matches) {
    const holders = matches.filter((m) => m >= candidate).length;
    if (holders >= k && candidate > best) best = candidate;
  }
  return best;
}

export type VoteResult = 'won' | 'lost' | 'pending';

/**
 * Outcome of an election among `voters`: won with a majority of grants, lost once a majority
 * can no longer be reached, else pending. Votes from non-voters are ignored.
 */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return 'lost';
  let granted = 0;
  let missing = 0;
  for (const v of voters) {
    const vote = votes.get(v);
    if (vote === true) granted++;
    else if (vote === undefined) missing++;
  }
  const need = majority(voters.length);
  if (granted >= need) return 'won';
  return granted + missing >= need ? 'pending' : 'lost';
}

/** Whether `active` contains a majority of `voters` (check-quorum, read-index confirmation). */
export function hasMajority(voters: readonly NodeId[], active: (id: NodeId) => boolean): boolean {
  if (voters.length === 0) return false;
  return voters.filter(active).length >= majority(voters.length);
}
