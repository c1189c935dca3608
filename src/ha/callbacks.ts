/**
 * User scripts run on PostgreSQL lifecycle events (postgresql.callbacks, pre_promote, before_stop),
 * with Patroni's calling convention: the command line is split like a POSIX shell would (no shell
 * runs it) and gets three more arguments, `<action> <role> <scope>`.
 *
 * Where we differ from Patroni, on purpose: Patroni kills a running callback when the next event
 * arrives, so a slow VIP script can be cut off halfway and never learn the final role (its users'
 * most reported callback bug). Here event callbacks run one at a time IN ORDER, each to completion
 * or to its timeout; the queue is bounded, and when it overflows the oldest waiting events are
 * dropped (never the newest, which carries the current role).
 *
 * The two hooks are synchronous: pre_promote runs after the lock is won and before the promote
 * (non-zero exit = do not promote), before_stop before PostgreSQL is stopped (result ignored).
 */
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';

export type CallbackAction = 'on_start' | 'on_stop' | 'on_restart' | 'on_reload' | 'on_role_change';
export type HookName = 'pre_promote' | 'before_stop';
/** The role argument, in Patroni 3's words (a primary is "master"). */
export type CallbackRole = 'master' | 'replica' | 'standby_leader' | 'demoted' | 'uninitialized';

export interface CallbackCommands {
  readonly callbacks?: Partial<Record<CallbackAction, string | undefined>> | undefined;
  readonly pre_promote?: string | undefined;
  readonly before_stop?: string | undefined;
}

export interface ScriptResult {
  /** Exit code; null when killed by a signal or the timeout, or the program could not start. */
  readonly code: number | null;
  readonly timedOut: boolean;
  /** The last 4 KiB of stdout+stderr. */
  readonly output: string;
  readonly error?: string;
}

/** Split a command line as a POSIX shell would: quotes, backslash escapes; no expansion. */
export function splitCommand(cmd: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < cmd.length; i++) {
    const ch = cmd[i]!;
    if (quote === "'") {
      if (ch === "'") quote = null; else cur += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < cmd.length && '"\\$`'.includes(cmd[i + 1]!)) cur += cmd[++i];
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch; inWord = true;
    } else if (ch === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i]; inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) { out.push(cur); cur = ''; inWord = false; }
    } else {
      cur += ch; inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in command: ${cmd}`);
  if (inWord) out.push(cur);
  return out;
}

/** Run `argv` to completion or until `timeoutMs`, then SIGKILL its whole process group. */
export function runScript(argv: readonly string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<ScriptResult> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    if (!file) { resolve({ code: null, timedOut: false, output: '', error: 'empty command' }); return; }
    let output = '';
    let timedOut = false;
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
    const keep = (b: Buffer) => { output = (output + b.toString('utf8')).slice(-4096); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
    }, timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); resolve({ code: null, timedOut, output, error: e.message }); });
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, timedOut, output }); });
  });
}

export interface CallbackRunnerOptions {
  readonly commands: CallbackCommands;
  readonly scope: string;
  readonly log: Logger;
  /** Kill an event callback still running after this long. */
  readonly callbackTimeoutMs?: number;
  /** Waiting events kept at most; older ones are dropped beyond it. */
  readonly maxQueue?: number;
}

interface Pending { readonly action: CallbackAction; readonly role: CallbackRole; readonly argv: string[] }

export class CallbackRunner {
  private readonly queue: Pending[] = [];
  private running: Promise<void> | null = null;
  private closed = false;
  /** Every finished event callback, newest last (bounded): for GET /patroni and tests. */
  readonly finished: Array<{ action: CallbackAction; role: CallbackRole; result: ScriptResult }> = [];

  constructor(private readonly o: CallbackRunnerOptions) {}

  private argvOf(cmd: string, action: string, role: CallbackRole): string[] | null {
    try {
      return [...splitCommand(cmd), action, role, this.o.scope];
    } catch (e) {
      this.o.log.error({ err: (e as Error).message, action }, 'callback command cannot be parsed; not running it');
      return null;
    }
  }

  /** Queue an event callback (no-op when none is configured for `action`). */
  fire(action: CallbackAction, role: CallbackRole): void {
    const cmd = this.o.commands.callbacks?.[action];
    if (!cmd || this.closed) return;
    const argv = this.argvOf(cmd, action, role);
    if (!argv) return;
    this.queue.push({ action, role, argv });
    const max = this.o.maxQueue ?? 16;
    while (this.queue.length > max) {
      const dropped = this.queue.shift()!;
      this.o.log.warn({ action: dropped.action, role: dropped.role }, 'callback queue full: dropping the oldest waiting callback');
    }
    this.running ??= this.drain().finally(() => { this.running = null; });
  }

  private async drain(): Promise<void> {
    for (let p = this.queue.shift(); p; p = this.queue.shift()) {
      this.o.log.info({ action: p.action, role: p.role }, `running callback ${p.action}`);
      const result = await runScript(p.argv, this.o.callbackTimeoutMs ?? 300_000);
      this.finished.push({ action: p.action, role: p.role, result });
      if (this.finished.length > 50) this.finished.shift();
      if (result.code !== 0) {
        this.o.log.warn({ action: p.action, role: p.role, code: result.code, timedOut: result.timedOut, error: result.error, output: result.output.slice(-500) }, `callback ${p.action} failed`);
      }
    }
  }

  /**
   * Run a synchronous hook. Returns null when none is configured, else its result. The caller
   * decides what a failure means (pre_promote: do not promote; before_stop: nothing).
   */
  async hook(name: HookName, role: CallbackRole, timeoutMs: number): Promise<ScriptResult | null> {
    const cmd = this.o.commands[name];
    if (!cmd) return null;
    const argv = this.argvOf(cmd, name, role);
    if (!argv) return { code: null, timedOut: false, output: '', error: 'the command cannot be parsed' };
    this.o.log.info({ hook: name }, `running ${name}`);
    const r = await runScript(argv, timeoutMs);
    if (r.code !== 0) this.o.log.warn({ hook: name, code: r.code, timedOut: r.timedOut, error: r.error, output: r.output.slice(-500) }, `${name} failed`);
    return r;
  }

  /** Wait for queued callbacks to finish (shutdown, tests); new ones are refused after close(). */
  async idle(): Promise<void> { while (this.running) await this.running; }

  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }
}

/** What the agent observed of PostgreSQL at the end of a cycle. */
export interface ObservedState { readonly running: boolean; readonly role: CallbackRole }

/**
 * The event callbacks due between two observations (pure). A role change while running is reported
 * as on_role_change only (it suppresses on_start, as in Patroni); a start is on_start; a stop is
 * on_stop. `restarted` marks that the agent itself restarted PostgreSQL in between (on_restart).
 */
export function transitions(prev: ObservedState | null, next: ObservedState, restarted = false): Array<[CallbackAction, CallbackRole]> {
  if (!next.running) return prev?.running ? [['on_stop', prev.role]] : [];
  if (!prev || !prev.running) {
    if (prev && prev.role !== next.role && prev.role !== 'uninitialized') return [['on_role_change', next.role]];
    return [[restarted ? 'on_restart' : 'on_start', next.role]];
  }
  if (prev.role !== next.role) return [['on_role_change', next.role]];
  return restarted ? [['on_restart', next.role]] : [];
}

/** Turns the agent's per-cycle observations of PostgreSQL into event callbacks (see transitions). */
export class LifecycleObserver {
  private observed: ObservedState | null = null;
  private restarted = false;

  constructor(private readonly runner: CallbackRunner) {}

  /** The agent itself restarted PostgreSQL: the next observation reports on_restart. */
  noteRestart(): void { this.restarted = true; }

  observe(running: boolean, primary: boolean): void {
    const next: ObservedState = { running, role: primary ? 'master' : 'replica' };
    for (const [action, role] of transitions(this.observed, next, this.restarted)) this.runner.fire(action, role);
    this.observed = next;
    this.restarted = false;
  }

  /** The agent stopped PostgreSQL at shutdown: on_stop if it was seen running. */
  stopped(): void {
    if (this.observed?.running) this.observe(false, this.observed.role === 'master');
  }
}
