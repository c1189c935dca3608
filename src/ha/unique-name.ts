/**
 * Startup check: two agents configured with the same `name` would overwrite each other's member
 * record and fight over one replication slot. Before the loop starts, a member record under our name
 * whose REST API lives at another address, and answers, means another node runs with our name: the
 * agent refuses to start (Patroni logs the same condition as CRITICAL and exits).
 * A record at our own address is ours from before a restart; one whose API does not answer is stale
 * (it expires with its lease). A DCS that cannot be read now skips the check: the loop copes.
 */
import type { Logger } from 'pino';
import type { Dcs } from '../dcs/port.js';

export interface NameClash { readonly apiUrl: string }

/** null when starting is safe; the clashing member's api_url otherwise. */
export async function findNameClash(dcs: Dcs, name: string, myApiUrl: string, log: Logger, timeoutMs = 3000): Promise<NameClash | null> {
  let apiUrl: string | undefined;
  try {
    apiUrl = (await dcs.getCluster()).members.get(name)?.data.api_url;
  } catch (e) {
    log.warn({ err: e instanceof Error ? e.message : String(e) }, 'unique name check skipped: the DCS cannot be read yet');
    return null;
  }
  if (!apiUrl || sameUrl(apiUrl, myApiUrl)) return null;
  try {
    const r = await fetch(apiUrl, { signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer().catch(() => undefined);
  } catch {
    log.warn({ apiUrl }, `a stale member record named ${name} points at another address (its REST API does not answer): it will expire`);
    return null;
  }
  return { apiUrl };
}

function sameUrl(a: string, b: string): boolean {
  const norm = (u: string) => u.replace(/\/+$/, '').toLowerCase();
  return norm(a) === norm(b);
}
