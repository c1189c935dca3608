/**
 * Lease keeper thread (see keeper.ts). Runs its own small etcd client (keeper-grpc.ts, node:http2
 * only) so that lease keep-alives go out on time even while the agent's event loop is busy (a slow
 * query, a GC pause, synchronous work).
 *
 * Shared memory (one SharedArrayBuffer): a BigInt64 lease id (0 = none; etcd ids are 64-bit) written
 * by the main thread, then three Float64 slots, times in ms since the epoch at monotonic resolution
 * (performance.timeOrigin + performance.now(), comparable across threads):
 *   t[0] main thread heartbeat, written by the main thread every HEARTBEAT_MS (keeper.ts)
 *   t[1] send time of the last keep-alive the server confirmed, written here
 *   t[2] 1 = stop, written by the main thread
 * Renewals stop when the main thread's heartbeat is older than `staleMs`: a keeper must not hold
 * the leader key for an agent that hangs for good.
 *
 * This file must not import the `etcd3` package (nor adapter.js, which does): see keeper-grpc.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { KeepAliveClient, type KeeperEndpoint } from './keeper-grpc.js';

export interface KeeperData { endpoint: KeeperEndpoint; shared: SharedArrayBuffer; intervalMs: number; staleMs: number }

const data = workerData as KeeperData;
const leaseId = new BigInt64Array(data.shared, 0, 1);
const t = new Float64Array(data.shared, 8, 3);
const client = new KeepAliveClient(data.endpoint);
const now = () => performance.timeOrigin + performance.now();

async function keepalive(id: bigint): Promise<void> {
  const sent = now();
  const ttl = await client.keepAlive(id, data.intervalMs);
  if (ttl > 0 && leaseId[0] === id) t[1] = Math.max(t[1] ?? 0, sent);
}

async function loop(): Promise<void> {
  while (t[2] !== 1) {
    const id = leaseId[0] ?? 0n;
    const fresh = now() - (t[0] ?? 0) < data.staleMs;
    if (id !== 0n && fresh) await keepalive(id).catch(() => undefined);
    await new Promise((r) => setTimeout(r, data.intervalMs));
  }
  client.close();
  parentPort?.close();
}

void loop();
