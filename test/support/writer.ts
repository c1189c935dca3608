/**
 * A client that inserts sequential ids through whatever node is writable, every `everyMs`, and
 * records each acknowledged commit, so a test can check that no acknowledged write was lost and
 * measure the write outage a client saw.
 */
import { performance } from 'node:perf_hooks';
import type { AgentNode, LocalCluster } from './cluster.js';
import { sleep } from './ports.js';

export class Writer {
  readonly acked: number[] = [];
  private next = 1;
  private running = false;
  private loop: Promise<void> | null = null;
  /** Longest gap between two acknowledged writes (ms), and when each ack happened. */
  maxGapMs = 0;
  private lastAckAt = 0;
  private current: AgentNode | null = null;

  constructor(private readonly cluster: LocalCluster, private readonly everyMs = 20) {}

  static async prepare(node: AgentNode): Promise<void> {
    await node.query('CREATE TABLE IF NOT EXISTS writes (id bigint PRIMARY KEY, at timestamptz DEFAULT now())');
  }

  start(): void {
    this.running = true;
    this.lastAckAt = performance.now();
    this.loop = this.run();
  }

  private async pick(): Promise<AgentNode | null> {
    for (const n of this.cluster.nodes) if (await n.writable()) return n;
    return null;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const id = this.next;
      try {
        this.current ??= await this.pick();
        if (this.current) {
          await this.current.query('INSERT INTO writes (id) VALUES ($1)', [id]);
          this.acked.push(id);
          this.next++;
          const now = performance.now();
          this.maxGapMs = Math.max(this.maxGapMs, now - this.lastAckAt);
          this.lastAckAt = now;
        }
      } catch (e) {
        // Unknown outcome if the commit was sent: retry the same id; a duplicate key means it landed.
        if (String(e).includes('duplicate key')) { this.acked.push(id); this.next++; }
        this.current = null;
      }
      await sleep(this.everyMs);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    const now = performance.now();
    this.maxGapMs = Math.max(this.maxGapMs, now - this.lastAckAt);
  }

  /** Acknowledged ids missing from `node`'s table. */
  async missingOn(node: AgentNode): Promise<number[]> {
    const rows = await node.query<{ id: string }>('SELECT id FROM writes');
    const have = new Set(rows.map((r) => Number(r.id)));
    return this.acked.filter((id) => !have.has(id));
  }
}
