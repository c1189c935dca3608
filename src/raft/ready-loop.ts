/**
 * The Ready-processing loop of the Raft driver: it steps received messages into the core, takes
 * each Ready, persists it (fdatasync off the event loop), sends its messages, hands committed
 * entries to the state machine, and advances. The node (node.ts) supplies the effects.
 *
 * Ordering rules, and why they keep Raft safe:
 * 1. One Ready at a time: the next is taken only after the previous one was persisted and advanced.
 * 2. A follower or candidate persists entries and hard state BEFORE sending the Ready's messages:
 *    an append acknowledgement or a vote is a promise about its disk.
 * 3. A leader sends its messages FIRST and persists while they travel (Raft thesis 10.2.1), when the
 *    Ready changes neither term nor vote (those stay persist-first) and installs no snapshot. Its
 *    followers still persist before acknowledging.
 * 4. Received messages are stepped only while no persist is in flight: they wait in an inbox until
 *    it completes. The core counts the leader's own log toward the commit quorum as soon as it
 *    appends; since an acknowledgement can only be for entries already sent, and every sent entry
 *    is on the leader's disk by the time that acknowledgement is stepped, every committed entry is
 *    on disk on a majority that includes the leader's own copy (the leader never counts itself
 *    before its fsync).
 * 5. Committed entries are applied (and clients answered) only after the Ready's persist.
 *
 * Proposals and ticks may run while a persist is in flight: their entries and messages go into
 * the next Ready, so concurrent proposals share one fsync.
 */
import type { ConfState, Entry, HardState, Message, RawNode, RaftEvent, ReadState, Ready, Role, Snapshot } from './core/index.js';
import type { PersistBatch } from './storage/index.js';

/** The storage side the loop needs (DiskStorage has it). */
export interface LoopStorage {
  /** The durable hard state (its term and vote are always on disk). */
  initialState(): HardState;
  /** Persists the batch; resolved means durable. One call at a time. */
  persistAsync(batch: PersistBatch): Promise<void>;
}

/** What the loop does to the world around it, called in the order of the file comment. */
export interface LoopEffects {
  send(m: Message): void;
  /** Membership changed (on append): sync the transport before the Ready's messages go out. */
  confChanged(conf: ConfState): void;
  /** A snapshot from the leader was persisted: replace the state machine. */
  restore(snapshot: Snapshot): void;
  softState(role: Role, lead: string | null): void;
  apply(entry: Entry): void;
  readState(rs: ReadState): void;
  /** Every event but conf-changed, after the Ready's entries were applied. */
  event(ev: RaftEvent): void;
  /** After advance: the loop is between Readies (e.g. time to compact). */
  advanced(): void;
  /** Persisting or stepping failed: the loop has stopped for good. */
  fatal(err: unknown): void;
}

export class ReadyLoop {
  private inbox: Message[] = [];
  private busy = false;
  private stopped = false;
  /** The current run (resolved when idle). */
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly raw: RawNode,
    private readonly storage: LoopStorage,
    private readonly fx: LoopEffects,
  ) {}

  /** Queues a received message; it is stepped at once, or after the persist in flight (rule 4). */
  receive(m: Message): void {
    this.inbox.push(m);
    this.kick();
  }

  /** Processes whatever the core has to do now (call after tick, propose, readIndex...). */
  kick(): void {
    if (this.busy || this.stopped) return;
    this.busy = true;
    this.done = this.run();
  }

  /** Stops taking Readies; resolves once the Ready being handled (if any) is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.inbox = [];
    await this.done;
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopped) {
        const msgs = this.inbox;
        this.inbox = [];
        for (const m of msgs) this.raw.step(m);
        if (!this.raw.hasReady()) break;
        const pending = this.handle(this.raw.ready());
        if (pending !== null) await pending;
      }
    } catch (e) {
      this.stopped = true;
      this.fx.fatal(e);
    } finally {
      // Synchronously after the last hasReady() check: a receive() from now on starts a new run.
      this.busy = false;
    }
  }

  /** Handles `rd`; returns a promise when it had to wait for the disk, else null (all done). */
  private handle(rd: Ready): Promise<void> | null {
    const durable = rd.snapshot !== null || rd.entries.length > 0 || rd.hardState !== null;
    const sendFirst = durable && this.leaderMaySendFirst(rd);
    if (sendFirst) this.sendAll(rd);
    if (!durable) {
      this.finish(rd, false);
      return null;
    }
    // While this is awaited the run stays busy, so receive() only queues (rule 4).
    return this.storage.persistAsync({ snapshot: rd.snapshot, entries: rd.entries, hardState: rd.hardState })
      .then(() => this.finish(rd, sendFirst));
  }

  /** Rule 3: a leader's Ready that changes neither term nor vote and installs no snapshot. */
  private leaderMaySendFirst(rd: Ready): boolean {
    if (rd.snapshot !== null || this.raw.basicStatus().role !== 'leader') return false;
    if (rd.hardState === null) return true;
    const onDisk = this.storage.initialState();
    return rd.hardState.term === onDisk.term && rd.hardState.vote === onDisk.vote;
  }

  private sendAll(rd: Ready): void {
    // Membership takes effect when appended: sync the transport before sending, so this Ready's
    // messages to a just-added learner are not dropped as addressed to an unknown peer.
    for (const ev of rd.events) if (ev.kind === 'conf-changed') this.fx.confChanged(ev.confState);
    for (const m of rd.messages) this.fx.send(m);
  }

  /** Everything after persist: restore, soft state, send (unless sent first), apply, reads, events, advance. */
  private finish(rd: Ready, sent: boolean): void {
    if (rd.snapshot) this.fx.restore(rd.snapshot);
    if (rd.softState) this.fx.softState(rd.softState.role, rd.softState.lead);
    if (!sent) this.sendAll(rd);
    for (const e of rd.committed) this.fx.apply(e);
    for (const rs of rd.readStates) this.fx.readState(rs);
    for (const ev of rd.events) if (ev.kind !== 'conf-changed') this.fx.event(ev);
    this.raw.advance(rd);
    this.fx.advanced();
  }
}
