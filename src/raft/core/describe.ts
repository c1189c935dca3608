/**
 * Deterministic one-line renderings of messages, entries and Ready batches for logs and test
 * transcripts. Same input, same text: no timestamps, maps iterated in sorted order.
 */
import type { ConfState, Entry, HardState, Message, RaftEvent, Ready, Snapshot } from './types.js';

const decoder = new TextDecoder();

/** Printable ASCII up to 24 chars is shown as text, anything else as a byte count. */
function describeData(data: Uint8Array): string {
  if (data.length === 0) return '';
  if (data.length <= 24 && data.every((b) => b >= 0x20 && b < 0x7f)) return ` ${JSON.stringify(decoder.decode(data))}`;
  return ` <${data.length}B>`;
}

export function describeEntry(e: Entry): string {
  const kind = e.type === 'normal' ? '' : ` ${e.type}`;
  return `${e.term}/${e.index}${kind}${describeData(e.data)}`;
}

export function describeConfState(c: ConfState): string {
  const learners = c.learners.length > 0 ? ` learners=[${c.learners.join(' ')}]` : '';
  return `voters=[${c.voters.join(' ')}]${learners}`;
}

export function describeSnapshot(s: Snapshot): string {
  return `snapshot index=${s.index} term=${s.term} ${describeConfState(s.confState)}${describeData(s.data)}`;
}

export function describeHardState(h: HardState): string {
  return `term=${h.term} vote=${h.vote ?? '-'} commit=${h.commit}`;
}

export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'append':
      return `${head} prev=${m.logTerm}/${m.index} commit=${m.commit} entries=[${m.entries.map(describeEntry).join(', ')}]`;
    case 'append-resp':
      return m.reject ? `${head} rejected=${m.index} hint=${m.hintTerm}/${m.hintIndex}` : `${head} index=${m.index}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}${m.ctx === null ? '' : ` ctx=${m.ctx}`}`;
    case 'heartbeat-resp':
      return m.ctx === null ? head : `${head} ctx=${m.ctx}`;
    case 'vote':
    case 'pre-vote':
      return `${head} last=${m.lastTerm}/${m.lastIndex}${m.transfer ? ' transfer' : ''}`;
    case 'vote-resp':
    case 'pre-vote-resp':
      return `${head} ${m.reject ? 'rejected' : 'granted'}`;
    case 'snapshot':
      return `${head} ${describeSnapshot(m.snapshot)}`;
    case 'timeout-now':
      return head;
    case 'read-index':
      return `${head} ctx=${m.ctx}`;
    case 'read-index-resp':
      return `${head} ctx=${m.ctx} index=${m.index}`;
    case 'transfer-leader':
      return `${head} target=${m.target}`;
    case 'removed':
      return `${head} conf=${m.confIndex}`;
  }
}

export function describeEvent(e: RaftEvent): string {
  switch (e.kind) {
    case 'became-leader':
      return `became leader at term ${e.term}`;
    case 'stepped-down':
      return `stepped down at term ${e.term}: ${e.reason}`;
    case 'learner-promotion-proposed':
      return `proposed promoting learner ${e.node} at index ${e.index}`;
    case 'autoremove-proposed':
      return `autoremove: proposed removing ${e.node} (silent ${e.silentTicks} ticks) at index ${e.index}`;
    case 'transfer-started':
      return `leadership transfer to ${e.target} started`;
    case 'transfer-aborted':
      return `leadership transfer to ${e.target} aborted: ${e.reason}`;
    case 'conf-changed':
      return `membership at index ${e.index}: ${describeConfState(e.confState)}`;
    case 'removed':
      return `removed from the cluster (configuration at index ${e.index}${e.by === null ? '' : `, told by ${e.by}`})`;
  }
}

/** A multi-line rendering of a Ready, one fact per line, empty sections left out. */
export function describeReady(rd: Ready): string {
  const lines: string[] = [];
  if (rd.softState !== null) lines.push(`role: ${rd.softState.role} lead=${rd.softState.lead ?? '-'}`);
  if (rd.hardState !== null) lines.push(`hard state: ${describeHardState(rd.hardState)}`);
  if (rd.snapshot !== null) lines.push(describeSnapshot(rd.snapshot));
  if (rd.entries.length > 0) lines.push(`entries: ${rd.entries.map(describeEntry).join(', ')}`);
  if (rd.committed.length > 0) lines.push(`committed: ${rd.committed.map(describeEntry).join(', ')}`);
  for (const m of rd.messages) lines.push(`send: ${describeMessage(m)}`);
  for (const s of rd.readStates) lines.push(`read state: ctx=${s.ctx} index=${s.index}`);
  for (const e of rd.events) lines.push(`event: ${describeEvent(e)}`);
  return lines.join('\n');
}
