/**
 * The agent's side of the fence (fence-main.ts): start the fence process once per node (or adopt
 * the one a previous agent left running), and tell it the deadline after each confirmed renewal.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

/**
 * Where a node's fence keeps its state, pid and log: in the temp dir, named after the scope, the
 * member and a hash of the data directory (two clusters on one host never share a fence).
 */
export function fencePaths(scope: string, name: string, dataDir: string): { state: string; pid: string; log: string } {
  const h = createHash('sha256').update(dataDir).digest('hex').slice(0, 10);
  const base = join(tmpdir(), `orchestrator-${scope}-${name}-${h}.fence`);
  return { state: `${base}.json`, pid: `${base}.json.pid`, log: `${base}.log` };
}

/** CLOCK_MONOTONIC in ns for a performance.now() instant of this process. */
function monoNs(perfMs: number): bigint {
  const nowNs = process.hrtime.bigint();
  return nowNs - BigInt(Math.round((performance.now() - perfMs) * 1e6));
}

export class Fence {
  private readonly pidFile: string;
  private lastWritten = '';
  /** The arm() input behind lastWritten: the agent re-arms every 250 ms with mostly the same one. */
  private lastDeadline: number | null = null;

  constructor(private readonly stateFile: string, private readonly dataDir: string, private readonly logFile: string) {
    this.pidFile = `${stateFile}.pid`;
  }

  /** Start the fence process unless one is already running for this state file. */
  ensureRunning(): number {
    try {
      const pid = Number(readFileSync(this.pidFile, 'utf8'));
      if (pid > 0) { process.kill(pid, 0); return pid; }
    } catch { /* none running */ }
    this.write(false, 0);
    const out = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, [fileURLToPath(new URL('./fence-main.js', import.meta.url)), this.stateFile], {
      detached: true, stdio: ['ignore', out, out],
    });
    closeSync(out);
    child.unref();
    writeFileSync(this.pidFile, String(child.pid));
    return child.pid ?? 0;
  }

  /** Arm with the deadline (a performance.now() instant) by which PostgreSQL must stop taking writes. */
  arm(deadlinePerfMs: number): void {
    // Converting to CLOCK_MONOTONIC reads two clocks, so the same deadline converts to a few ns
    // more or less each time: compare the input, or every call rewrites the file (it did, 4 times
    // a second on every primary: most of the agent's idle file-system work).
    if (deadlinePerfMs === this.lastDeadline) return;
    this.write(true, deadlinePerfMs);
    this.lastDeadline = deadlinePerfMs;
  }

  disarm(): void {
    this.lastDeadline = null;
    this.write(false, 0);
  }

  private write(armed: boolean, deadlinePerfMs: number): void {
    const body = JSON.stringify({ armed, deadlineNs: armed ? String(monoNs(deadlinePerfMs)) : '0', dataDir: this.dataDir, agentPid: process.pid });
    if (body === this.lastWritten) return;
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, body);
    renameSync(tmp, this.stateFile);
    this.lastWritten = body;
  }

  /** Clean shutdown: the fence exits when its state file disappears. */
  stop(): void {
    // A later ensureRunning() (after a pause ends) must write the state file afresh.
    this.lastWritten = '';
    this.lastDeadline = null;
    rmSync(this.stateFile, { force: true });
    rmSync(this.pidFile, { force: true });
  }
}
