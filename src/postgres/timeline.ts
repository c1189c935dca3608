/**
 * Timeline divergence, the pure part. A timeline history file (`pg_wal/<TLI>.history`) lists, for
 * every ancestor timeline, the LSN where the next timeline branched off it. A node whose WAL on its
 * own timeline goes past the point where the leader's history left that timeline has written WAL the
 * leader never had: it must be rewound before it can follow. Patroni's rule, in our words:
 *  - our timeline higher than the leader's: rewind;  equal: no rewind, unless both histories of
 *    that timeline are known and differ (two nodes promoted concurrently from the same parent, both
 *    picking the next free timeline ID: same number, different branches; found by the chaos suite);
 *  - otherwise find our timeline in the leader's history: absent -> rewind; else compare our
 *    position with its switch point (see `LocalPosition`).
 */
import { formatLsn, parseLsn } from './lsn.js';

export interface HistoryEntry {
  /** The ancestor timeline. */
  readonly parentTimeline: number;
  /** First byte NOT on parentTimeline: where the child timeline starts. */
  readonly switchpoint: number;
  readonly reason: string;
}

/**
 * Parse a history file. Lines are `<tli>\t<X/Y>\t<reason>`; blank lines and '#' comments are
 * skipped. Throws on a malformed line (naming it), since deciding on a misread history loses data.
 */
export function parseHistory(text: string): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\d+)\s+([0-9A-Fa-f]+\/[0-9A-Fa-f]+)\s*(.*)$/.exec(line);
    if (!m) throw new Error(`malformed timeline history line: expected '<tli> <X/Y> <reason>', got '${line}'`);
    out.push({ parentTimeline: Number(m[1]), switchpoint: parseLsn(m[2] ?? ''), reason: m[3] ?? '' });
  }
  return out;
}

/**
 * Where the local instance stands. `kind` says what `lsn` means, because the comparison differs:
 *  - 'end': the end of the last WAL record we have (a running server's replay/flush LSN, or the
 *    minimum recovery point of a stopped replica). Diverged iff lsn > switchpoint.
 *  - 'record-start': the START of our last record (the shutdown checkpoint of a cleanly stopped
 *    primary, from pg_controldata). That record itself must have reached the new leader, so
 *    diverged iff lsn >= switchpoint (the fork then lies at or before the checkpoint's start).
 */
export interface LocalPosition {
  readonly timeline: number;
  readonly lsn: number;
  readonly kind: 'end' | 'record-start';
}

export interface RewindVerdict {
  readonly needed: boolean;
  readonly reason: string;
}

/**
 * Decide whether the local instance diverged from a leader on `leaderTimeline` with `history`.
 * With equal timelines, `localHistory` (our own history file of that timeline, when known) is
 * compared with `history` (then the leader's file of the same timeline): a different branch point
 * means the same timeline ID names two different branches.
 */
export function rewindVerdict(local: LocalPosition, leaderTimeline: number, history: readonly HistoryEntry[], localHistory: readonly HistoryEntry[] | null = null): RewindVerdict {
  if (local.timeline > leaderTimeline) {
    return { needed: true, reason: `local timeline ${local.timeline} is ahead of the leader's ${leaderTimeline}` };
  }
  if (local.timeline === leaderTimeline) {
    const mine = localHistory?.[localHistory.length - 1];
    const theirs = history[history.length - 1];
    if (localHistory !== null && history.length > 0 && (mine?.parentTimeline !== theirs?.parentTimeline || mine?.switchpoint !== theirs?.switchpoint)) {
      const branch = (e: HistoryEntry | undefined) => (e ? `timeline ${e.parentTimeline} at ${formatLsn(e.switchpoint)}` : 'no parent');
      return { needed: true, reason: `same timeline ID ${local.timeline} as the leader but another branch: ours forked from ${branch(mine)}, the leader's from ${branch(theirs)}` };
    }
    return { needed: false, reason: `same timeline ${local.timeline} as the leader` };
  }
  const entry = history.find((h) => h.parentTimeline === local.timeline);
  if (!entry) {
    return { needed: true, reason: `local timeline ${local.timeline} is not in the leader's history` };
  }
  const diverged = local.kind === 'end' ? local.lsn > entry.switchpoint : local.lsn >= entry.switchpoint;
  const where = `local position ${formatLsn(local.lsn)} on timeline ${local.timeline}`;
  const fork = `the leader's switch point ${formatLsn(entry.switchpoint)}`;
  return diverged
    ? { needed: true, reason: `${where} is past ${fork}` }
    : { needed: false, reason: `${where} precedes ${fork}` };
}
