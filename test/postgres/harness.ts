/**
 * Test harness for real PostgreSQL 15 instances on loopback: temp directories the DB user can use,
 * free ports, and cleanup that runs even when a test fails (after() hooks) or the process exits
 * abruptly (a synchronous 'exit' handler that stops servers immediately and removes the dirs).
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresControl } from '../../src/postgres/instance.js';
import type { ConnInfo, PgLogger, PostgresSettings } from '../../src/postgres/types.js';

export const BIN_DIR = '/usr/lib/postgresql/15/bin';
export const SUPERUSER = { username: 'postgres', password: 'su-S3cret:pw' };
export const REPLICATION = { username: 'repl', password: "r'epl-S3cret" };
export const REWIND = { username: 'rewinder', password: 'rw-S3cret\\x' };
export const APP_PASSWORD = 'app-S3cret';

/** A port nobody listens on right now (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function postgresIds(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  const f = line?.split(':');
  if (!f) throw new Error('running as root but /etc/passwd has no postgres user');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

function stderrLogger(name: string): PgLogger {
  const w = (level: string) => (obj: object, msg: string): void => {
    process.stderr.write(`[${name}] ${level} ${msg} ${JSON.stringify(obj)}\n`);
  };
  return { debug: w('debug'), info: w('info'), warn: w('warn'), error: w('error') };
}

/** Environments not yet cleaned up; the exit/signal safety net cleans these. */
const live = new Set<PgTestEnv>();
let hooksInstalled = false;

function installSafetyNet(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => { for (const e of live) e.cleanupSync(); });
  // 'exit' is not emitted when a signal kills us: turn the usual ones into an exit.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1)));
  }
}

export class PgTestEnv {
  readonly instances: PostgresControl[] = [];

  private constructor(readonly root: string) {
    installSafetyNet();
    live.add(this);
  }

  /** A fresh temp root owned by the DB user (so binaries running as it can create data dirs). */
  static create(): PgTestEnv {
    const root = mkdtempSync(join(tmpdir(), 'pgctl-test-'));
    const ids = postgresIds();
    if (ids) chownSync(root, ids.uid, ids.gid);
    return new PgTestEnv(root);
  }

  /** Settings for member `name` on `port`, fast and small for tests; `over` replaces fields. */
  settings(name: string, port: number, over: Partial<PostgresSettings> = {}): PostgresSettings {
    return {
      name, scope: 'testcluster', dataDir: join(this.root, name), binDir: BIN_DIR,
      listenHosts: ['127.0.0.1'], port, connectHost: '127.0.0.1', connectPort: port,
      pgpassPath: join(this.root, `${name}.pgpass`),
      superuser: SUPERUSER, replication: REPLICATION, rewind: REWIND,
      parameters: {
        fsync: false, synchronous_commit: 'off', full_page_writes: true, shared_buffers: '16MB', max_connections: 20,
        unix_socket_directories: this.root, wal_keep_size: '64MB', log_min_messages: 'warning',
      },
      pgHba: [
        'host all all 127.0.0.1/32 scram-sha-256',
        `host replication ${REPLICATION.username} 127.0.0.1/32 scram-sha-256`,
      ],
      initdb: ['no-sync', 'no-instructions', { encoding: 'UTF8' }],
      pgCtlTimeoutSeconds: 30, useSlots: true, createReplicaMethods: ['basebackup'], basebackupOptions: [],
      bootstrapUsers: { app: { password: APP_PASSWORD, options: ['createdb', 'connection limit 5'] } },
      ...over,
    };
  }

  /** A control for `s`; PGCTL_TEST_LOG=1 prints its log events to stderr. */
  add(s: PostgresSettings): PostgresControl {
    const pg = new PostgresControl(s, process.env['PGCTL_TEST_LOG'] ? { log: stderrLogger(s.name) } : {});
    this.instances.push(pg);
    return pg;
  }

  /** Stop every server (immediate) and remove the temp root. Safe to call twice. */
  async cleanup(): Promise<void> {
    for (const pg of this.instances) await pg.stop('immediate').catch(() => undefined);
    this.cleanupSync();
  }

  /** Synchronous: usable from an 'exit' handler. */
  cleanupSync(): void {
    live.delete(this);
    const ids = postgresIds();
    for (const pg of this.instances) {
      if (!existsSync(join(pg.settings.dataDir, 'postmaster.pid'))) continue;
      spawnSync(join(BIN_DIR, 'pg_ctl'), ['stop', '-D', pg.settings.dataDir, '-m', 'immediate', '-w', '-t', '10'],
        { stdio: 'ignore', cwd: '/', ...(ids ?? {}) });
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function connTo(pg: PostgresControl): ConnInfo {
  return { host: '127.0.0.1', port: pg.settings.port, member: pg.settings.name };
}

/** Poll `fn` every 100 ms until it returns true or `timeoutMs` passes (then throw `what`). */
export async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
