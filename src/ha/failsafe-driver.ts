/**
 * The I/O half of failsafe mode, for the agent: running a round of POST /failsafe when the DCS is
 * lost (its result becomes LocalFacts.failsafe for the rules), keeping the /failsafe key while
 * leading, and answering a peer's POST /failsafe. The state and the pure parts are in failsafe.ts.
 */
import type { Logger } from 'pino';
import type { Dcs } from '../dcs/port.js';
import type { ClusterView } from '../dcs/types.js';
import {
  failsafeList, failsafeTimeoutMs, failsafeVerdict, FailsafeState, sameList,
  type FailsafeBody, type FailsafePoster, type ReceiverState,
} from './failsafe.js';
import type { FailsafeRoundResult, HaSettings, MonoMs } from './types.js';

/** When a round may run: the agent's view of itself at the start of the cycle's fact gathering. */
export interface RoundConditions {
  readonly dcsError: string | null;
  readonly settings: HaSettings;
  /** Lock held and its deadline not yet passed: an expired lease is not revived by a round. */
  readonly lockValid: boolean;
  readonly runningPrimary: boolean;
  /** Lease deadline (monotonic ms): no answer after it is of any use. */
  readonly deadline: MonoMs | null;
}

export class FailsafeDriver {
  readonly state: FailsafeState;

  constructor(
    private readonly deps: {
      readonly dcs: Dcs;
      readonly log: Logger;
      readonly post: FailsafePoster;
      readonly now: () => MonoMs;
    },
  ) {
    this.state = new FailsafeState(deps.now);
  }

  /**
   * Runs a round when failsafe mode is on, the DCS is unreachable and this node is a running primary
   * whose lease is still valid; otherwise null (the rules then demote a primary as without failsafe).
   */
  async maybeRound(c: RoundConditions, me: string, body: FailsafeBody): Promise<FailsafeRoundResult | null> {
    if (c.dcsError === null || !c.settings.failsafeMode || c.settings.pause || !c.lockValid || !c.runningPrimary) {
      this.state.active = false;
      return null;
    }
    // Never wait past the deadline: the fence stops PostgreSQL there whatever the answers.
    const left = c.deadline === null ? 0 : c.deadline - this.deps.now();
    const timeoutMs = Math.min(failsafeTimeoutMs(c.settings), left);
    const r = await this.state.round({ me, body, timeoutMs, post: this.deps.post });
    this.deps.log.debug({ ok: r.ok, timeoutMs }, `failsafe round: ${r.detail}`);
    return r;
  }

  /** After a successful DCS read: the list it holds is the one a later round uses. */
  sawView(view: ClusterView): void {
    this.state.known = view.failsafe;
    this.state.active = false;
  }

  /**
   * Leader only, after a confirmed renewal: keep /failsafe equal to the member list while failsafe
   * mode is on (writing only on change), and remove it when the mode is off. Rejects as the DCS
   * write does; the caller treats it as best effort.
   */
  async maintainKey(view: ClusterView, me: string, myApiUrl: string, failsafeMode: boolean): Promise<void> {
    const wanted = failsafeMode ? failsafeList(view.members.values(), me, myApiUrl) : null;
    if (sameList(wanted, view.failsafe)) return;
    await this.deps.dcs.setFailsafe(wanted);
    this.state.known = wanted;
    this.deps.log.info({ members: wanted ? Object.keys(wanted) : null }, wanted ? 'updated the /failsafe member list' : 'removed the /failsafe key (failsafe_mode is off)');
  }

  /** A peer's POST /failsafe: the verdict, and on acceptance remember the sender for ttl. */
  receive(r: ReceiverState, sender: string): { readonly status: number; readonly message: string } {
    const v = failsafeVerdict(r, sender);
    if (v.status === 200) this.state.accept(sender);
    else this.deps.log.warn({ sender, status: v.status }, `refused POST /failsafe from ${sender}: ${v.message}`);
    return v;
  }
}
