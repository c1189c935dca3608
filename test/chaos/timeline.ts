/**
 * The timeline of one chaos scenario: what the harness did (fault injected, removed), what it saw
 * (role changes, first and last accepted write per node, the cluster healed), in order, with times
 * in seconds from the scenario's start on the monotonic clock. It is printed on every failure so a
 * run can be understood without rerunning it.
 */
import { performance } from 'node:perf_hooks';

export interface TimelineEvent {
  /** performance.now() of the event. */
  readonly at: number;
  readonly what: string;
}

export class Timeline {
  private readonly events: TimelineEvent[] = [];
  /** performance.now() that is t = 0 in the printout. */
  readonly origin = performance.now();

  /** Record `what` now, or at `at` (performance.now()) for events measured elsewhere. */
  add(what: string, at = performance.now()): void {
    this.events.push({ at, what });
  }

  /** Seconds since the origin, for messages. */
  rel(at: number): string {
    return `${((at - this.origin) / 1000).toFixed(2)} s`;
  }

  /** The events in time order, one per line ("  +12.34 s  what"). */
  format(): string {
    return [...this.events]
      .sort((a, b) => a.at - b.at)
      .map((e) => `  ${`+${((e.at - this.origin) / 1000).toFixed(2)}`.padStart(8)} s  ${e.what}`)
      .join('\n');
  }
}
