/**
 * One prefix watch per adapter, shared by every `watch()` call. It wakes waiters on changes that
 * should start an HA cycle at once: leader, config, failover, sync, initialize, history. Member
 * records and /status change on every cycle under write load; waking every agent on each of them
 * would make the loops feed each other (Patroni's KVCache filters the same way).
 * A broken stream wakes everyone (true): the caller re-reads and meets the error there.
 */
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import * as K from '../keys.js';
import type { ClusterKeys } from '../keys.js';

const WAKE_KEYS = new Set([K.LEADER, K.CONFIG, K.FAILOVER, K.SYNC, K.INITIALIZE, K.HISTORY]);

interface Waiter { since: bigint; resolve: (changed: boolean) => void; timer: NodeJS.Timeout }

export class PrefixWatch {
  private watcher: Watcher | null = null;
  private starting = false;
  private lastWakeRev = 0n;
  private readonly waiters = new Set<Waiter>();
  private closed = false;

  constructor(private readonly client: Etcd3, private readonly keys: ClusterKeys) {}

  wait(sinceRevision: string, timeoutMs: number): Promise<boolean> {
    const since = BigInt(sinceRevision || '0');
    if (this.lastWakeRev > since) return Promise.resolve(true);
    this.ensureStarted(since);
    return new Promise<boolean>((resolve) => {
      const w: Waiter = {
        since,
        resolve: (changed) => { clearTimeout(w.timer); this.waiters.delete(w); resolve(changed); },
        timer: setTimeout(() => w.resolve(false), Math.max(0, timeoutMs)),
      };
      this.waiters.add(w);
    });
  }

  private ensureStarted(since: bigint): void {
    if (this.watcher || this.starting || this.closed) return;
    this.starting = true;
    this.client.watch().prefix(this.keys.prefix).startRevision(String(since + 1n)).create()
      .then((w) => {
        this.starting = false;
        if (this.closed) { void w.cancel(); return; }
        this.watcher = w;
        w.on('put', (kv) => this.onEvent(kv));
        w.on('delete', (kv) => this.onEvent(kv));
        let lost = false;
        w.on('disconnected', () => { lost = true; this.wakeAll(); });
        // Events may have been missed while the stream was down: wake so the caller re-reads.
        w.on('connected', () => { if (lost) { lost = false; this.wakeAll(); } });
        w.on('error', () => this.wakeAll());
      })
      .catch(() => { this.starting = false; this.wakeAll(); });
  }

  private onEvent(kv: IKeyValue): void {
    const rel = this.keys.relative(kv.key.toString('utf8'));
    if (rel === null || !WAKE_KEYS.has(rel)) return;
    const rev = BigInt(kv.mod_revision || '0');
    if (rev > this.lastWakeRev) this.lastWakeRev = rev;
    for (const w of [...this.waiters]) if (rev > w.since) w.resolve(true);
  }

  private wakeAll(): void {
    for (const w of [...this.waiters]) w.resolve(true);
  }

  close(): void {
    this.closed = true;
    this.wakeAll();
    if (this.watcher) void this.watcher.cancel().catch(() => undefined);
    this.watcher = null;
  }
}
