/**
 * After a postmaster is SIGKILLed its children (backends, checkpointer, walsender...) live on for a
 * moment, still attached to the old shared memory, and a new postmaster refuses to start until they
 * are gone ("pre-existing shared memory block is still in use"). Waiting for them costs seconds; we
 * find them instead -- every PostgreSQL process runs with the data directory as its working
 * directory -- and end them, so a crashed primary restarts in a fraction of a second.
 * Only processes whose cwd is exactly this data directory are touched.
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync, unlinkSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export function orphanPids(dataDir: string): number[] {
  let target: string;
  try { target = realpathSync(dataDir); } catch { return []; }
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === target) out.push(pid);
    } catch { /* gone, or not ours to read */ }
  }
  return out;
}

/** SIGKILL the leftover processes of a dead postmaster; returns how many were signalled. */
export function killOrphans(dataDir: string): number {
  let n = 0;
  for (const pid of orphanPids(dataDir)) {
    try { process.kill(pid, 'SIGKILL'); n++; } catch { /* already gone */ }
  }
  return n;
}

/** true when `pid` no longer runs: no such process, or a zombie waiting for its parent to reap it. */
export function isDeadOrZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/**
 * A SIGKILLed postmaster can stay a zombie for a while (its parent is init, which reaps when it
 * gets to it); PostgreSQL's own lock checks (kill(pid, 0)) then believe it still runs and refuse
 * to start. A lock file (postmaster.pid, or a socket's .s.PGSQL.<port>.lock) naming a pid that is
 * dead or a zombie is stale: remove it. Returns the files removed.
 */
export function removeStaleLockFiles(files: readonly string[]): string[] {
  const removed: string[] = [];
  for (const file of files) {
    let pid: number;
    try { pid = Number(readFileSync(file, 'utf8').split('\n')[0]); } catch { continue; }
    if (!Number.isInteger(pid) || pid <= 0 || !isDeadOrZombie(pid)) continue;
    try { unlinkSync(file); removed.push(file); } catch { /* leave it to PostgreSQL's own check */ }
  }
  return removed;
}

/** The lock files a postmaster of `dataDir` on `port` creates. */
export function lockFiles(dataDir: string, port: number, socketDirs: string | undefined): string[] {
  const dirs = (socketDirs ?? '/var/run/postgresql').split(',').map((d) => d.trim()).filter(Boolean)
    .map((d) => (isAbsolute(d) ? d : join(dataDir, d)));
  return [join(dataDir, 'postmaster.pid'), ...dirs.map((d) => join(d, `.s.PGSQL.${port}.lock`))];
}
