/**
 * The replicated KV state machine of the built-in Raft DCS.
 *
 * Contract: pure and deterministic. The same sequence of (index, entry bytes) applied to any two
 * machines (or to one restored from another's snapshot midway) yields the same results, the same
 * events and byte-identical snapshots. It reads no clock: lease deadlines are computed from the
 * proposer's clock recorded in each entry (commands.ts). It never expires a lease by itself: only a
 * committed `leaseRevoke` removes one (the Raft leader's LeaseClock decides when to propose it).
 *
 * Ownership: the Raft driver alone calls `apply`, in log order, once per committed entry; everyone
 * else reads. Reads reflect the locally applied state; linearizable reads are the driver's job
 * (read-index, then read here once applied up to that index).
 */
import { decodeCommand } from './commands.js';
import { DEFAULT_HISTORY_EVENTS, EventHistory } from './history.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';
import { KvStore, type RangeTarget } from './store.js';
import { evaluateReadOnlyTxn, runTxn } from './txn.js';
import type {
  AppliedChange, KeyValue, KvCommand, KvEvent, KvResult, LeaseInfo, RangeReply, TxnRequest, TxnResult, WatchResult,
} from './types.js';

export interface KvStateMachineOptions {
  /** How many recent events `watch` can replay (default 10,000). */
  readonly historyEvents?: number;
}

export type KvListener = (change: AppliedChange) => void;

interface Applied {
  readonly result: KvResult;
  readonly events: readonly KvEvent[];
}

export class KvStateMachine {
  private readonly listeners = new Set<KvListener>();
  private readonly historyEvents: number;
  private store = new KvStore();
  private history: EventHistory;
  private applied = 0;
  /** Every lease id ever allocated is <= this, so allocation never reuses a live or past id. */
  private leaseFloor = 0;

  constructor(options: KvStateMachineOptions = {}) {
    this.historyEvents = options.historyEvents ?? DEFAULT_HISTORY_EVENTS;
    this.history = new EventHistory(this.historyEvents);
  }

  /**
   * Rebuilds a machine from `snapshot()` bytes. Throws KvSnapshotError on corrupt input. The
   * event history starts empty: watching from before the snapshot's revision answers `compacted`.
   */
  static restore(bytes: Uint8Array, options: KvStateMachineOptions = {}): KvStateMachine {
    const { store, meta } = decodeSnapshot(bytes);
    const machine = new KvStateMachine(options);
    machine.store = store;
    machine.applied = meta.appliedIndex;
    machine.leaseFloor = meta.leaseFloor;
    machine.history = new EventHistory(machine.historyEvents, store.revision);
    return machine;
  }

  /** The store's current revision (0 before the first write). */
  get revision(): number {
    return this.store.revision;
  }

  /** The index of the last entry applied. */
  get appliedIndex(): number {
    return this.applied;
  }

  /**
   * Applies the committed entry at `index` (bytes from `encodeCommand`). There is deliberately no
   * clock parameter: the proposer's clock travels inside the entry, so the applying node's own
   * clock cannot leak into the replicated state.
   * - Entries at or below `appliedIndex` are replays (after a restart from an older snapshot the
   *   driver may feed them again): skipped, nothing changes.
   * - An empty entry (a new leader's no-op) only advances `appliedIndex` (result `skipped`).
   *   Conf-change entries are not the KV's business: the driver must not pass them.
   * - A malformed entry yields a `bad-command` error result on every replica alike.
   * Listeners run after the state has changed; see `subscribe`.
   */
  apply(index: number, entry: Uint8Array): KvResult {
    if (index <= this.applied) return { kind: 'skipped', index, revision: this.store.revision };
    this.applied = index;
    if (entry.length === 0) return { kind: 'skipped', index, revision: this.store.revision };
    const decoded = decodeCommand(entry);
    const { result, events } = decoded.ok
      ? this.execute(index, decoded.command, decoded.proposedAtMs)
      : { result: { kind: 'error', code: 'bad-command', message: decoded.message, revision: this.store.revision } as const, events: [] };
    if (events.length > 0) {
      this.history.append(events);
      this.notify({ index, revision: this.store.revision, events });
    }
    return result;
  }

  private execute(index: number, command: KvCommand, atMs: number): Applied {
    switch (command.kind) {
      case 'txn':
        return runTxn(this.store, command);
      case 'leaseGrant':
        return { result: this.grant(index, command.id, command.ttlMs, atMs), events: [] };
      case 'leaseKeepAlive':
        return { result: this.keepAlive(index, command.id, atMs), events: [] };
      case 'leaseRevoke':
        return this.revoke(command.id, command.ifRenewedIndex);
    }
  }

  private grant(index: number, requested: number | undefined, ttlMs: number, atMs: number): KvResult {
    if (requested !== undefined && this.store.leases.has(requested)) {
      return { kind: 'error', code: 'lease-exists', message: `lease ${requested} already exists`, revision: this.store.revision };
    }
    // Log indexes are unique and increasing, so the index is a natural id; the floor keeps ids
    // unique even after a client picked a large explicit id.
    const id = requested ?? Math.max(index, this.leaseFloor + 1);
    this.leaseFloor = Math.max(this.leaseFloor, id);
    this.store.leases.set(id, { id, ttlMs, deadlineMs: atMs + ttlMs, renewedIndex: index, keys: new Set() });
    return { kind: 'leaseGrant', id, ttlMs, renewedIndex: index, revision: this.store.revision };
  }

  private keepAlive(index: number, id: number, atMs: number): KvResult {
    const lease = this.store.leases.get(id);
    if (!lease) return { kind: 'leaseKeepAlive', id, found: false, ttlMs: 0, renewedIndex: 0, revision: this.store.revision };
    lease.deadlineMs = atMs + lease.ttlMs;
    lease.renewedIndex = index;
    return { kind: 'leaseKeepAlive', id, found: true, ttlMs: lease.ttlMs, renewedIndex: index, revision: this.store.revision };
  }

  /**
   * Revoking deletes the lease's keys in one batch (one revision), like etcd. A guarded revoke
   * (`ifRenewedIndex`) whose lease was renewed after the leader judged it expired does nothing.
   */
  private revoke(id: number, ifRenewedIndex: number | undefined): Applied {
    const lease = this.store.leases.get(id);
    const revision = this.store.revision;
    if (!lease) return { result: { kind: 'leaseRevoke', id, found: false, revoked: false, deleted: 0, revision }, events: [] };
    if (ifRenewedIndex !== undefined && lease.renewedIndex !== ifRenewedIndex) {
      return { result: { kind: 'leaseRevoke', id, found: true, revoked: false, deleted: 0, revision }, events: [] };
    }
    const batch = this.store.beginWrite();
    const deleted = batch.deleteAll([...lease.keys]);
    this.store.leases.delete(id);
    const events = batch.end();
    return { result: { kind: 'leaseRevoke', id, found: true, revoked: true, deleted, revision: this.store.revision }, events };
  }

  /**
   * Registers a listener called after every apply that changed keys, with that apply's events.
   * Returns the unsubscribe function. Listeners must not throw; if one does, the others still run
   * and `apply` rethrows the first error (the state change has already happened).
   */
  subscribe(listener: KvListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(change: AppliedChange): void {
    let first: unknown = null;
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== null) throw first;
  }

  // --- reads (local state) ---

  get(key: string): KeyValue | null {
    return this.store.keys.get(key) ?? null;
  }

  range(target: RangeTarget): RangeReply {
    return { kvs: this.store.range(target), revision: this.store.revision };
  }

  /** Changes under `prefix` after `afterRevision`, or `compacted` if the history is too short. */
  watch(afterRevision: number, prefix: string): WatchResult {
    return this.history.since(afterRevision, prefix, this.store.revision);
  }

  /** The oldest revision one may still watch after. */
  get compactRevision(): number {
    return this.history.compactedThrough;
  }

  /**
   * A transaction that only reads (`isReadOnlyTxn`), answered from the applied state without a log
   * entry. Linearizable only behind a read-index, like `range`.
   */
  readTxn(request: TxnRequest): TxnResult {
    return evaluateReadOnlyTxn(this.store, request);
  }

  lease(id: number): LeaseInfo | null {
    const l = this.store.leases.get(id);
    return l ? { id: l.id, ttlMs: l.ttlMs, deadlineMs: l.deadlineMs, renewedIndex: l.renewedIndex, keys: [...l.keys].sort() } : null;
  }

  /** Every live lease, by id. A new Raft leader feeds these to `LeaseClock.promote`. */
  leases(): LeaseInfo[] {
    return [...this.store.leases.keys()].sort((a, b) => a - b).map((id) => this.lease(id) as LeaseInfo);
  }

  /** The whole state (keys, leases, revision, applied index); canonical bytes. */
  snapshot(): Uint8Array {
    return encodeSnapshot(this.store, { appliedIndex: this.applied, leaseFloor: this.leaseFloor });
  }
}
