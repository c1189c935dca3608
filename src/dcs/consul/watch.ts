/**
 * Waiting for changes with Consul blocking queries (`GET kv/<prefix>?recurse&index=&wait=`).
 *
 * A blocking query on the prefix returns on ANY write under it, and member records change on every
 * HA cycle. Like the etcd watch (etcd3/watch.ts) we only wake the caller for the keys that should
 * start an HA cycle at once: leader, config, failover, sync, initialize, history. To see what
 * changed we compare each answer's ModifyIndex per wake key with a baseline: the one getCluster()
 * remembered for that revision, or else the previous answer. A key that disappeared (leader deleted
 * when its session died) is a change too. Without a baseline for the first answer, a wake key
 * modified after `since`, or an index bump no returned entry explains (a deletion), counts.
 *
 * Consul's documented caveats are honoured: an index that goes backwards wakes the caller (who
 * re-reads), and a request that returns at once without progress is not re-issued in a busy loop.
 * A failed request resolves true (the caller re-reads and meets the error there); the wait's own
 * timeout aborts the request and resolves false.
 */
import type { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import * as K from '../keys.js';
import type { ClusterKeys } from '../keys.js';
import { consulIndex, responseContext, withResponse, type ConsulApi, type KvEntry } from './client.js';

const WAKE_KEYS = new Set([K.LEADER, K.CONFIG, K.FAILOVER, K.SYNC, K.INITIALIZE, K.HISTORY]);

/** Relative wake key -> ModifyIndex. */
export type WakeMap = ReadonlyMap<string, number>;

export function wakeMap(entries: readonly KvEntry[], keys: ClusterKeys): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of entries) {
    const rel = keys.relative(e.Key);
    if (rel !== null && WAKE_KEYS.has(rel)) m.set(rel, e.ModifyIndex);
  }
  return m;
}

function sameMap(a: WakeMap, b: WakeMap): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

export function asEntries(body: unknown): KvEntry[] {
  if (Array.isArray(body)) return body as KvEntry[];
  return body && typeof body === 'object' ? [body as KvEntry] : [];
}

export class BlockingWatch {
  private remembered: { revision: string; map: WakeMap } | null = null;
  private readonly inflight = new Set<EventEmitter>();
  private closed = false;

  constructor(private readonly api: ConsulApi, private readonly keys: ClusterKeys, private readonly stale: boolean) {}

  /** Record the wake keys' versions as of `revision` (getCluster calls this). */
  remember(revision: string, map: WakeMap): void {
    this.remembered = { revision, map };
  }

  async wait(sinceRevision: string, timeoutMs: number): Promise<boolean> {
    if (this.closed) return true;
    const end = performance.now() + Math.max(0, timeoutMs);
    let index = /^\d+$/.test(sinceRevision) ? Number(sinceRevision) : 0;
    let baseline: WakeMap | null = this.remembered?.revision === sinceRevision ? this.remembered.map : null;
    for (;;) {
      const left = Math.floor(end - performance.now());
      if (left <= 0) return false;
      const started = performance.now();
      const answer = await this.query(index, left);
      if (answer === 'timeout') return false;
      if (answer === 'failed' || this.closed) return true;
      const { newIndex, entries } = answer;
      if (newIndex < index) return true; // index went backwards: restart from a fresh read
      const map = wakeMap(entries, this.keys);
      const changed = baseline
        ? !sameMap(baseline, map)
        : [...map.values()].some((v) => v > index) || (newIndex > index && Math.max(0, ...entries.map((e) => e.ModifyIndex)) < newIndex);
      if (changed) return true;
      // Consul may answer early without a change (idempotent writes); don't spin if it does.
      if (newIndex === index && performance.now() - started < 50) await new Promise((r) => setTimeout(r, 50));
      baseline = map;
      index = Math.max(newIndex, 1);
    }
  }

  /** One blocking request, aborted when the wait's time is up. */
  private async query(index: number, waitMs: number): Promise<{ newIndex: number; entries: KvEntry[] } | 'timeout' | 'failed'> {
    const ctx = responseContext();
    this.inflight.add(ctx);
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; ctx.emit('cancel'); }, waitMs);
    try {
      const r = await this.api.kv.get({
        key: this.keys.prefix, recurse: true, ctx,
        ...(index > 0 ? { index: String(index), wait: `${waitMs}ms` } : {}),
        ...(this.stale ? { stale: true } : {}),
        // Consul adds up to wait/16 of jitter; our own timer above ends the wait on time anyway.
        timeout: waitMs + Math.ceil(waitMs / 16) + 1000,
      });
      const { res, body } = withResponse(r);
      return { newIndex: Number(consulIndex(res)), entries: asEntries(body) };
    } catch {
      return timedOut ? 'timeout' : 'failed';
    } finally {
      clearTimeout(timer);
      this.inflight.delete(ctx);
    }
  }

  close(): void {
    this.closed = true;
    for (const ctx of this.inflight) ctx.emit('cancel');
    this.inflight.clear();
  }
}
