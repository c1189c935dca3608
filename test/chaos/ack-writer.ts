/**
 * The lost-writes checker's client: inserts sequential ids through whatever node is writable (one
 * kept connection per node), and records every acknowledged commit with the node that acknowledged
 * it, when, and the WAL position it returned. Afterwards every acknowledged id must be on the final
 * primary; the ones that are not are lost writes, and their WAL span is compared with
 * maximum_lag_on_failover in async mode.
 *
 * A write whose outcome is unknown (connection broken or timed out after sending) is retried with
 * the same id on the next writable node; a duplicate-key answer there means it did land, so it is
 * then counted as acknowledged.
 */
import { performance } from 'node:perf_hooks';
import type { AgentNode } from '../support/cluster.js';
import { sleep } from '../support/ports.js';
import { Link } from './link.js';

export const WRITES_TABLE = 'chaos_writes';

export interface AckedWrite {
  readonly id: number;
  readonly node: string;
  readonly at: number;
  /** pg_current_wal_lsn() on the acknowledging node right after the insert, as a byte position; null after a duplicate-key ack. */
  readonly lsn: bigint | null;
}

/** "16/B374D848" -> byte position. */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-F]+)\/([0-9A-F]+)$/i.exec(text);
  if (!m) throw new Error(`expected an LSN such as "0/3000060", got ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

export class AckWriter {
  readonly acked: AckedWrite[] = [];
  /** Longest time between two acknowledgements (from start() to stop() included), ms. */
  maxGapMs = 0;
  /** Where the longest gap began (performance.now()). */
  maxGapAt = 0;
  private next: number;
  private readonly firstId: number;
  private running = false;
  private loop: Promise<void> | null = null;
  private lastAckAt = 0;
  private readonly links: Link[];
  private current = 0;

  /** Ids start at `firstId`, so several writers can share one table on one cluster. */
  constructor(nodes: readonly AgentNode[], firstId: number, private readonly everyMs = 25) {
    this.links = nodes.map((n) => new Link(n, 5000));
    this.next = firstId;
    this.firstId = firstId;
  }

  static async prepare(primary: AgentNode): Promise<void> {
    await primary.query(`CREATE TABLE IF NOT EXISTS ${WRITES_TABLE} (id bigint PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())`);
  }

  start(): void {
    this.running = true;
    this.lastAckAt = performance.now();
    this.loop = this.run();
  }

  private ack(id: number, node: string, lsn: bigint | null): void {
    const now = performance.now();
    this.acked.push({ id, node, at: now, lsn });
    if (now - this.lastAckAt > this.maxGapMs) { this.maxGapMs = now - this.lastAckAt; this.maxGapAt = this.lastAckAt; }
    this.lastAckAt = now;
    this.next++;
  }

  private async run(): Promise<void> {
    let failedInARow = 0;
    while (this.running) {
      const link = this.links[this.current]!;
      const r = await link.run(`INSERT INTO ${WRITES_TABLE} (id) VALUES ($1) RETURNING pg_current_wal_lsn()::text AS lsn`, [this.next]);
      if (r.ok) {
        this.ack(this.next, link.node.name, parseLsn(String(r.rows[0]?.['lsn'])));
        failedInARow = 0;
        await sleep(this.everyMs);
      } else if (r.sqlState === '23505') {
        this.ack(this.next, link.node.name, null);
      } else {
        // Read-only, down or unreachable: try the next node; pause once every node has failed.
        this.current = (this.current + 1) % this.links.length;
        if (++failedInARow % this.links.length === 0) await sleep(100);
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    for (const l of this.links) l.drop();
    const now = performance.now();
    if (now - this.lastAckAt > this.maxGapMs) { this.maxGapMs = now - this.lastAckAt; this.maxGapAt = this.lastAckAt; }
  }

  /** Acknowledged writes whose id is not in `primary`'s table. */
  async missingOn(primary: AgentNode): Promise<AckedWrite[]> {
    const rows = await primary.query<{ id: string }>(`SELECT id FROM ${WRITES_TABLE} WHERE id >= $1`, [this.firstId]);
    const have = new Set(rows.map((r) => Number(r.id)));
    return this.acked.filter((w) => !have.has(w.id));
  }

  /** Highest id handed out so far (the next writer on the same table starts above it). */
  get lastId(): number { return this.next - 1; }
}

/**
 * WAL bytes the lost writes span: from the last surviving write that the same node acknowledged
 * before the first lost one (close to where the timelines forked) to the highest lost position.
 * 0 when nothing was lost or no position is known. An estimate, to compare with
 * maximum_lag_on_failover.
 */
export function lostWalBytes(all: readonly AckedWrite[], lost: readonly AckedWrite[]): bigint {
  const lostIds = new Set(lost.map((w) => w.id));
  let total = 0n;
  for (const node of new Set(lost.map((w) => w.node))) {
    const mine = lost.filter((w) => w.node === node && w.lsn !== null);
    if (mine.length === 0) continue;
    const firstLostId = Math.min(...mine.map((w) => w.id));
    const hi = mine.reduce((m, w) => (w.lsn! > m ? w.lsn! : m), 0n);
    const before = all.filter((w) => w.node === node && w.id < firstLostId && !lostIds.has(w.id) && w.lsn !== null);
    const lo = before.length ? before.reduce((m, w) => (w.lsn! > m ? w.lsn! : m), 0n) : mine.reduce((m, w) => (w.lsn! < m ? w.lsn! : m), hi);
    total += hi - lo;
  }
  return total;
}
