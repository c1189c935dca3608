/**
 * Membership arithmetic: the next ConfState from a copy of the current one, one server at a
 * time (Raft thesis §4.1). Pure; checks the change against the current membership.
 *
 * Invariant kept: voters and learners are disjoint, sorted, without duplicates.
 */
import type { ConfChange, ConfState, NodeId } from '../core/types.js';

export type ConfChangeResult =
  | { readonly ok: true; readonly conf: ConfState }
  | { readonly ok: false; readonly reason: string };

function sorted(ids: Iterable<NodeId>): NodeId[] {
  return [...ids].sort();
}

/** Applies `change` to `conf`, returning a new ConfState or why the change is invalid. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfChangeResult {
  const { node } = change;
  const isVoter = conf.voters.includes(node);
  const isLearner = conf.learners.includes(node);
  switch (change.kind) {
    case 'add-learner':
      if (isVoter || isLearner) {
        return { ok: false, reason: `node "${node}" is already a ${isVoter ? 'voter' : 'learner'}` };
      }
      return { ok: true, conf: { voters: conf.voters, learners: sorted([...conf.learners, node]) } };
    case 'promote':
      if (!isLearner) {
        return { ok: false, reason: `node "${node}" is not a learner (${isVoter ? 'already a voter' : 'not a member'})` };
      }
      return {
        ok: true,
        conf: { voters: sorted([...conf.voters, node]), learners: conf.learners.filter((n) => n !== node) },
      };
    case 'remove':
      if (!isVoter && !isLearner) return { ok: false, reason: `node "${node}" is not a member` };
      if (isVoter && conf.voters.length === 1) {
        return { ok: false, reason: `node "${node}" is the last voter and cannot be removed` };
      }
      return {
        ok: true,
        conf: { voters: conf.voters.filter((n) => n !== node), learners: conf.learners.filter((n) => n !== node) },
      };
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a ConfChange as entry data (JSON; small and readable in a hex dump). */
export function encodeConfChange(change: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify({ kind: change.kind, node: change.node }));
}

/** Decodes entry data written by encodeConfChange; null if it is not a valid ConfChange. */
export function decodeConfChange(data: Uint8Array): ConfChange | null {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const { kind, node } = raw as { kind?: unknown; node?: unknown };
  if ((kind !== 'add-learner' && kind !== 'promote' && kind !== 'remove') || typeof node !== 'string') return null;
  return { kind, node };
}

export function confStateEqual(a: ConfState, b: ConfState): boolean {
  const same = (x: readonly NodeId[], y: readonly NodeId[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return same(a.voters, b.voters) && same(a.learners, b.learners);
}
