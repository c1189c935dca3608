/**
 * Keeps the member's lease alive from a worker thread, so that a busy or blocked agent event loop
 * cannot starve the keep-alives (issue: "Lease keep-alive must not be starved by a slow query, a
 * blocked event loop or GC"). The main thread publishes the lease id and a heartbeat; the worker
 * renews every `intervalMs` while the heartbeat is fresh and publishes the send time of each
 * confirmed renewal, which the adapter folds into leaseConfirmedAt().
 */
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { Etcd3Options } from './adapter.js';

export class LeaseKeeper {
  private readonly shared = new SharedArrayBuffer(4 * 8);
  private readonly leaseId = new BigInt64Array(this.shared, 0, 1);
  private readonly t = new Float64Array(this.shared, 8, 3);
  private readonly worker: Worker;
  private readonly beat: NodeJS.Timeout;

  constructor(options: Etcd3Options, intervalMs: number, staleMs: number) {
    const { onDataWarning: _drop, ...cloneable } = options;
    this.worker = new Worker(new URL('./keeper-worker.js', import.meta.url), {
      workerData: { options: cloneable, shared: this.shared, intervalMs, staleMs },
    });
    this.worker.unref();
    this.worker.on('error', () => undefined);
    this.heartbeat();
    this.beat = setInterval(() => this.heartbeat(), 250);
    this.beat.unref();
  }

  private heartbeat(): void {
    this.t[0] = performance.timeOrigin + performance.now();
  }

  setLease(id: string | null): void {
    this.leaseId[0] = id ? BigInt(id) : 0n;
    this.t[1] = 0;
  }

  /** Confirmed renewal send time, converted to this thread's performance.now() scale; null if none. */
  confirmedAt(): number | null {
    const abs = this.t[1] ?? 0;
    return abs > 0 ? abs - performance.timeOrigin : null;
  }

  async close(): Promise<void> {
    this.t[2] = 1;
    clearInterval(this.beat);
    await this.worker.terminate().catch(() => undefined);
  }
}
