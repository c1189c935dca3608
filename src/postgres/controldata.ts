/**
 * pg_controldata: the facts a stopped instance can still tell (system id, cluster state, last
 * checkpoint, minimum recovery point). Labels are English because exec.ts pins LC_MESSAGES=C.
 */
import { run, type DbUser } from './exec.js';

export type ControlData = ReadonlyMap<string, string>;

/** Parse `Label:   value` lines into a map (label without the colon). */
export function parseControlData(text: string): ControlData {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    map.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return map;
}

/** Read pg_control of `dataDir`; null when pg_controldata fails (no or unreadable pg_control). */
export async function readControlData(binDir: string, dataDir: string, user: DbUser, timeoutMs = 5000): Promise<ControlData | null> {
  const r = await run(binDir, 'pg_controldata', ['-D', dataDir], { user, timeoutMs });
  if (r.code !== 0) return null;
  const map = parseControlData(r.output);
  return map.has('Database cluster state') ? map : null;
}

export const CD_SYSID = 'Database system identifier';
export const CD_STATE = 'Database cluster state';
export const CD_CHECKPOINT_LSN = 'Latest checkpoint location';
export const CD_CHECKPOINT_TLI = "Latest checkpoint's TimeLineID";
export const CD_MIN_RECOVERY_LSN = 'Minimum recovery ending location';
export const CD_MIN_RECOVERY_TLI = "Min recovery ending loc's timeline";
