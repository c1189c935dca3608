/**
 * Pre-candidate and candidate roles: count (pre-)votes; give up on hearing a legitimate leader.
 */
import type { Raft } from './raft.js';
import { handleFromLeader } from './step-follower.js';
import type { Message } from './types.js';

export function stepCandidate(r: Raft, m: Message): void {
  switch (m.type) {
    case 'append':
    case 'heartbeat':
    case 'snapshot':
      // A leader exists for a term >= ours (lower terms were answered in Raft.step).
      r.becomeFollower(m.term, m.from);
      handleFromLeader(r, m);
      return;
    case 'pre-vote-resp':
    case 'vote-resp': {
      const expected = r.role === 'pre-candidate' ? 'pre-vote-resp' : 'vote-resp';
      if (m.type !== expected) return;
      const result = r.poll(m.from, !m.reject);
      if (result === 'won') {
        if (r.role === 'pre-candidate') r.campaign('election');
        else r.becomeLeader();
      } else if (result === 'lost') {
        r.becomeFollower(r.term, null);
      }
      return;
    }
    default:
      // timeout-now, reads and transfers need a leader; drop them.
      return;
  }
}
