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
import type { KeeperData } from './keeper-worker.js';

/**
 * The keeper thread's own heap limits. It holds one HTTP/2 session and a timer; V8's defaults
 * (young generation sized for throughput) would let its idle heap grow to several MiB of RSS.
 */
const KEEPER_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 } as const;

/** How often the main thread proves it is alive to the keeper thread. */
export const HEARTBEAT_MS = 1000;

export class LeaseKeeper {
  private readonly shared = new SharedArrayBuffer(4 * 8);
  private readonly leaseId = new BigInt64Array(this.shared, 0, 1);
  private readonly t = new Float64Array(this.shared, 8, 3);
  private readonly worker: Worker;
  private readonly beat: NodeJS.Timeout;

  constructor(options: Etcd3Options, intervalMs: number, staleMs: number) {
    const { hosts, protocol, username, password, cacert, cert, key } = options;
    const endpoint = { hosts, protocol, username, password, cacert, cert, key };
    const workerData: KeeperData = { endpoint, shared: this.shared, intervalMs, staleMs };
    this.worker = new Worker(new URL('./keeper-worker.js', import.meta.url), { workerData, resourceLimits: KEEPER_LIMITS });
    this.worker.unref();
    this.worker.on('error', () => undefined);
    this.heartbeat();
    // Once a second is plenty against staleMs (3/4 of a ttl): a rarer beat can only make the keeper
    // give up sooner after a freeze, never later, and each wake-up of an idle agent costs CPU.
    this.beat = setInterval(() => this.heartbeat(), HEARTBEAT_MS);
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
