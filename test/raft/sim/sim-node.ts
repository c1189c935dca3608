/**
 * One simulated server: a RawNode plus the driver duties a real process would carry out, with a
 * MemoryStorage as its disk. A crash throws away everything but the disk; a restart rebuilds the
 * node and its KV state from the disk alone.
 */
import type { RaftConfig } from '../../../src/raft/core/config.js';
import { RawNode } from '../../../src/raft/core/raw-node.js';
import { MemoryStorage } from '../../../src/raft/core/storage.js';
import type { Entry, Message, NodeId, RaftEvent, ReadState, Ready } from '../../../src/raft/core/types.js';
import { decodeCommand, KvStore, type KvOutput } from './kv.js';
import type { Prng } from './prng.js';

export type NodeOptions = Omit<RaftConfig, 'id' | 'storage' | 'rng' | 'applied'>;

/** Where a node dies while processing a Ready (see SimNode.processReady). */
export type CrashPoint = 'none' | 'after-persist' | 'before-persist';

/** What the cluster wants to observe while a node processes a Ready. */
export interface ReadyHooks {
  send(m: Message): void;
  appended(node: SimNode, e: Entry): void;
  committed(node: SimNode, from: number, to: number): void;
  restored(node: SimNode, index: number): void;
  applied(node: SimNode, e: Entry, output: KvOutput | null, opId: number | null): void;
  readState(node: SimNode, rs: ReadState): void;
  event(node: SimNode, e: RaftEvent): void;
}

export class SimNode {
  raw: RawNode | null = null;
  kv = new KvStore();
  applied = 0;
  incarnation = 0;

  constructor(
    readonly id: NodeId,
    readonly disk: MemoryStorage,
    private readonly options: NodeOptions,
    private readonly rng: Prng,
    /** Take a snapshot and compact once this many entries were applied past the last snapshot. */
    private readonly snapshotEvery: number,
  ) {}

  get alive(): boolean {
    return this.raw !== null;
  }

  start(): void {
    const snap = this.disk.snapshot();
    this.kv = KvStore.restore(snap.data);
    this.applied = snap.index;
    this.incarnation++;
    this.raw = new RawNode({ ...this.options, id: this.id, storage: this.disk, rng: this.rng, applied: snap.index });
  }

  crash(): void {
    this.raw = null;
  }

  /**
   * Processes one Ready in the order src/raft/ready-loop.ts uses: persist before sending, except
   * that a leader whose Ready changes neither term nor vote (and installs no snapshot) sends
   * first (Raft thesis 10.2.1). Messages a node receives are stepped between Readies, so a leader
   * never counts a follower's acknowledgement before its own write, as in the driver.
   * `crash`: 'after-persist' dies once the Ready is on disk (nothing applied; sent only if sent
   * first); 'before-persist' dies before the disk write (a leader that sends first has sent).
   */
  processReady(hooks: ReadyHooks, crash: CrashPoint = 'none'): void {
    const raw = this.raw!;
    const rd: Ready = raw.ready();
    const sendFirst = rd.snapshot === null && raw.basicStatus().role === 'leader' &&
      (rd.hardState === null || (rd.hardState.term === this.disk.initialState().term && rd.hardState.vote === this.disk.initialState().vote));
    if (sendFirst) for (const m of rd.messages) hooks.send(m);
    if (crash === 'before-persist') {
      this.crash();
      return;
    }
    if (rd.snapshot !== null) {
      this.disk.applySnapshot(rd.snapshot);
      this.kv = KvStore.restore(rd.snapshot.data);
      this.applied = rd.snapshot.index;
      hooks.restored(this, rd.snapshot.index);
    }
    this.disk.append(rd.entries);
    for (const e of rd.entries) hooks.appended(this, e);
    if (rd.hardState !== null) {
      const before = this.disk.initialState().commit;
      this.disk.setHardState(rd.hardState);
      if (rd.hardState.commit > before) hooks.committed(this, before + 1, rd.hardState.commit);
    }
    if (crash === 'after-persist') {
      this.crash();
      return;
    }
    if (!sendFirst) for (const m of rd.messages) hooks.send(m);
    for (const e of rd.committed) this.apply(e, hooks);
    for (const rs of rd.readStates) hooks.readState(this, rs);
    for (const ev of rd.events) hooks.event(this, ev);
    raw.advance(rd);
    this.maybeSnapshot();
  }

  private apply(e: Entry, hooks: ReadyHooks): void {
    this.applied = e.index;
    if (e.type !== 'normal' || e.data.length === 0) {
      hooks.applied(this, e, null, null);
      return;
    }
    const cmd = decodeCommand(e.data);
    hooks.applied(this, e, this.kv.apply(cmd.input), cmd.id);
  }

  private maybeSnapshot(): void {
    const snapIndex = this.disk.snapshot().index;
    if (this.applied - snapIndex < this.snapshotEvery) return;
    this.disk.createSnapshot(this.applied, this.raw!.confStateAt(this.applied), this.kv.serialize());
    // Keep a few entries so slightly lagging followers still get appends rather than snapshots.
    this.disk.compact(Math.max(this.disk.firstIndex() - 1, this.applied - 3));
  }
}
