/**
 * Child processes started by tests. Each runs in its own process group (detached), is remembered
 * here, and is ended by PID-group when the test ends, when the test process exits, and on
 * SIGINT/SIGTERM: a failing or interrupted test leaves nothing behind. We only ever signal groups we
 * started ourselves.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

const live = new Map<number, ChildProcess>();
let hooked = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pid, signal); } catch { /* already gone */ }
}

export function killAllManaged(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of live.keys()) killGroup(pid, signal);
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => killAllManaged('SIGKILL'));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => { killAllManaged('SIGKILL'); process.exit(130); });
  }
}

export interface Managed {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signal the whole process group. */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM the group, then SIGKILL after `graceMs`; resolves when the leader process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnManaged(cmd: string, args: readonly string[], opts: SpawnOptions & { logFile?: string } = {}): Managed {
  hook();
  let log: WriteStream | null = null;
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  const pid = child.pid;
  live.set(pid, child);
  if (opts.logFile) {
    log = createWriteStream(opts.logFile, { flags: 'a' });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
  } else {
    child.stdout?.resume();
    child.stderr?.resume();
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(pid);
      // The group may still hold children (e.g. a postmaster): end them too.
      killGroup(pid, 'SIGKILL');
      log?.end();
      resolve({ code, signal });
    });
  });
  return {
    child, pid, exited,
    signal: (sig) => killGroup(pid, sig),
    async stop(graceMs = 5000) {
      if (!live.has(pid)) return;
      killGroup(pid, 'SIGTERM');
      const t = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}
