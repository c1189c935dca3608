/**
 * Failsafe mode (dynamic `failsafe_mode`, Patroni's semantics: shared/reference/ha-cycle.md §2.9).
 *
 * Sender side (the primary): while the DCS is unreachable, a primary that held the lock stays
 * primary only if EVERY other member of the last known /failsafe list answers its POST /failsafe
 * with 200 "Accepted" in this cycle. A successful round counts like a lease renewal that was sent
 * when the round STARTED: the lease deadline becomes roundStart + ttl - margin (agent.ts).
 *
 * Receiver side (any member): an accepted POST is remembered with the time it arrived; for ttl
 * seconds after it, a cluster without a leader key is treated as led by that sender (no race, no
 * promotion: rules/no-leader.ts).
 *
 * Why this is safe: a receiver records the POST at or after the round's start, so it holds back for
 * at least until roundStart + ttl, later than the sender's extended deadline (roundStart + ttl -
 * margin). A round that is not confirmed by everyone never moves the deadline, so the deadline timer
 * and the fence process stop the old primary before any receiver's window ends.
 */
import type { FailsafeRoundResult, FailsafeSender, HaSettings, MonoMs } from './types.js';

/** POST /failsafe body (Patroni's field names). `slots` maps permanent slot names to LSNs. */
export interface FailsafeBody {
  readonly name: string;
  readonly conn_url: string;
  readonly api_url: string;
  readonly slots?: Readonly<Record<string, number>>;
}

/** One HTTP exchange's result; a rejected promise means no answer (timeout, refused...). */
export interface PostAnswer {
  readonly status: number;
  readonly text: string;
}

/** Sends one POST; must settle within `timeoutMs` (reject on timeout). */
export type FailsafePoster = (url: string, body: FailsafeBody, timeoutMs: number) => Promise<PostAnswer>;

/**
 * Budget of one round, all members in parallel: min(retry_timeout, loop_wait) seconds. A DCS
 * failure already costs up to retry_timeout of the cycle, and ttl >= loop_wait + 2 * retry_timeout,
 * so the next round starts before the deadline this one sets. At least 500 ms.
 */
export function failsafeTimeoutMs(s: Pick<HaSettings, 'retryTimeoutSeconds' | 'loopWaitSeconds'>): number {
  return Math.max(500, Math.min(s.retryTimeoutSeconds, s.loopWaitSeconds) * 1000);
}

/** http://host:port/patroni -> http://host:port/failsafe (Patroni derives it from api_url the same way). */
export function failsafeUrl(apiUrl: string): string {
  const u = new URL(apiUrl);
  u.pathname = `${u.pathname.replace(/\/[^/]*$/, '')}/failsafe`;
  u.search = '';
  return u.toString();
}

/** One member's answer: null when it accepted, else why not ("timeout", "HTTP 500 Running as a leader"). */
async function askOne(post: FailsafePoster, apiUrl: string, body: FailsafeBody, budgetMs: number, now: () => MonoMs): Promise<string | null> {
  const end = now() + budgetMs;
  let why = 'no answer';
  // Two attempts within the budget (Patroni retries once): a refused connection may be a restart.
  for (let attempt = 0; attempt < 2; attempt++) {
    const left = end - now();
    if (left < 50) break;
    try {
      const r = await post(failsafeUrl(apiUrl), body, left);
      if (r.status === 200 && r.text.trim() === 'Accepted') return null;
      // An HTTP answer is the member's verdict: asking again would not change it.
      return `HTTP ${r.status}${r.text ? ` ${oneLine(r.text)}` : ''}`;
    } catch (e) {
      why = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError') ? 'timeout' : `no answer: ${oneLine(e instanceof Error ? e.message : String(e))}`;
    }
  }
  return why;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

export interface RoundInput {
  /** The last /failsafe list read from or written to the DCS (null: never seen). */
  readonly list: Readonly<Record<string, string>> | null;
  readonly me: string;
  readonly body: FailsafeBody;
  readonly timeoutMs: number;
  readonly post: FailsafePoster;
  readonly now: () => MonoMs;
}

/**
 * POST /failsafe to every other listed member, in parallel. ok only when all accepted. Patroni's
 * rules: no list, or a list without me, is not a confirmation (the leader writes the list with
 * itself in it); a list with nobody else (one-node cluster) is.
 */
export async function failsafeRound(i: RoundInput): Promise<FailsafeRoundResult> {
  if (i.list === null) return { ok: false, detail: 'no /failsafe member list is known (the leader had not written one yet)' };
  if (!(i.me in i.list)) return { ok: false, detail: `I am (${i.me}) not in the last known /failsafe member list` };
  const others = Object.entries(i.list).filter(([name]) => name !== i.me).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (others.length === 0) return { ok: true, detail: 'no other member is listed in /failsafe' };
  const answers = await Promise.all(others.map(async ([name, url]) => [name, await askOne(i.post, url, i.body, i.timeoutMs, i.now)] as const));
  const refused = answers.filter(([, why]) => why !== null);
  if (refused.length === 0) return { ok: true, detail: `all ${others.length} member${others.length === 1 ? '' : 's'} confirmed failsafe` };
  const list = refused.map(([name, why]) => `${name} (${why})`).join(', ');
  return { ok: false, detail: `member${refused.length === 1 ? '' : 's'} ${list} did not confirm` };
}

/** The /failsafe value the leader keeps: every member with an api_url, plus itself. */
export function failsafeList(members: Iterable<{ readonly name: string; readonly data: { readonly api_url: string } }>, me: string, myApiUrl: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of members) if (m.data.api_url) out[m.name] = m.data.api_url;
  out[me] = myApiUrl;
  return out;
}

/** Same names and urls, in any order. */
export function sameList(a: Readonly<Record<string, string>> | null, b: Readonly<Record<string, string>> | null): boolean {
  if (a === null || b === null) return a === b;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}

/** What a POST /failsafe receiver knows about itself, for failsafeVerdict. */
export interface ReceiverState {
  readonly failsafeMode: boolean;
  /** Local PostgreSQL runs as a primary. */
  readonly runningPrimary: boolean;
  /** The leader key in this node's last view (null: none seen). */
  readonly knownLeader: string | null;
}

/** HTTP status and text for a POST /failsafe (codes from shared/reference/rest-api.md §3.4). */
export function failsafeVerdict(r: ReceiverState, sender: string): { readonly status: number; readonly message: string } {
  if (!r.failsafeMode) return { status: 502, message: 'failsafe mode is off (dynamic configuration failsafe_mode is false)' };
  if (r.runningPrimary) return { status: 500, message: 'Running as a leader' };
  // A sender that lost the key to someone else must not be kept writable by our confirmation.
  if (r.knownLeader !== null && r.knownLeader !== sender) {
    return { status: 409, message: `the leader key names ${r.knownLeader}, not ${sender}` };
  }
  return { status: 200, message: 'Accepted' };
}

/**
 * The agent's failsafe state: both sides. Not pure (it is the agent's memory), but it does no I/O
 * itself: the round's HTTP goes through the injected poster, and time through `now`.
 */
export class FailsafeState {
  /** Start time of the last round every listed member confirmed; null: none since the lock was (re)gained. */
  confirmedAt: MonoMs | null = null;
  /** The primary runs on failsafe confirmations now (GET /patroni failsafe_mode_is_active). */
  active = false;
  /** The last /failsafe list read from or written to the DCS. */
  known: Readonly<Record<string, string>> | null = null;
  /** Receiver side: the last sender we accepted. */
  sender: FailsafeSender | null = null;

  constructor(private readonly now: () => MonoMs) {}

  /**
   * Runs one round; on success records its START as the new confirmation time (never moving it
   * back), so the caller's lease deadline grows exactly as a renewal sent then would grow it.
   */
  async round(input: Omit<RoundInput, 'list' | 'now'>): Promise<FailsafeRoundResult> {
    const started = this.now();
    const r = await failsafeRound({ ...input, list: this.known, now: this.now });
    if (r.ok) {
      this.confirmedAt = Math.max(this.confirmedAt ?? started, started);
      this.active = true;
    } else {
      this.active = false;
    }
    return r;
  }

  /** The lock is gone (or was never held): old confirmations must not extend a future lease. */
  lockLost(): void {
    this.confirmedAt = null;
    this.active = false;
  }

  /** Receiver side: remember an accepted sender, stamped with the arrival time. */
  accept(name: string): void {
    this.sender = { name, receivedAt: this.now() };
  }
}
