/**
 * Vocabulary of the local PostgreSQL control layer. The lead maps the YAML `postgresql` section onto
 * `PostgresSettings`; the HA executor calls `PostgresControl` (instance.ts) with it and reads back
 * `PgProbe` facts. Nothing here decides anything.
 */

/** A login role and its password. The password never appears in argv, logs or error messages. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** A user created at bootstrap (Patroni's bootstrap.users). */
export interface BootstrapUser {
  readonly password: string;
  /** Role options, e.g. ['createrole', 'createdb'] or 'connection limit 5'. Validated before use. */
  readonly options: readonly string[];
}

/** An initdb / pg_basebackup option: 'data-checksums' -> --data-checksums; {encoding: 'UTF8'} -> --encoding=UTF8. */
export type ToolOption = string | Readonly<Record<string, string>>;

export interface PostgresSettings {
  /** Member name: application_name on the upstream, slot name source. */
  readonly name: string;
  /** Cluster scope: becomes cluster_name. */
  readonly scope: string;
  readonly dataDir: string;
  /** Directory holding the PostgreSQL binaries (initdb, pg_ctl, postgres, pg_basebackup, ...). */
  readonly binDir: string;
  /** Where the managed config files live (default: dataDir). */
  readonly configDir?: string;
  /** listen_addresses. 127.0.0.1 is added when not covered, because the agent connects over loopback. */
  readonly listenHosts: readonly string[];
  readonly port: number;
  /** Address peers use to reach this server (published as conn_url by the caller). */
  readonly connectHost: string;
  readonly connectPort: number;
  /** Passfile used by libpq tools and the walreceiver; written 0600, owned by the DB OS user. */
  readonly pgpassPath: string;
  readonly superuser: Credentials;
  readonly replication: Credentials;
  /** pg_rewind's source connection role; null: use the superuser. */
  readonly rewind: Credentials | null;
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
  /** pg_hba.conf lines; null keeps the file initdb (or the clone source) wrote. */
  readonly pgHba: readonly string[] | null;
  readonly initdb: readonly ToolOption[];
  readonly pgCtlTimeoutSeconds: number;
  readonly useSlots: boolean;
  /** Create-replica methods in order; only 'basebackup' is implemented here. */
  readonly createReplicaMethods: readonly string[];
  readonly basebackupOptions: readonly ToolOption[];
  /** Base name of the managed config file (QHB: 'qhb'); default 'postgresql'. */
  readonly configBaseName?: string;
  /** hba file name (relative to configDir) or absolute path; default 'pg_hba.conf'. */
  readonly hbaFile?: string;
  /** ident file name (relative to configDir) or absolute path; default 'pg_ident.conf'. */
  readonly identFile?: string;
  /** Database the agent connects to; default 'postgres'. */
  readonly database?: string;
  readonly bootstrapUsers?: Readonly<Record<string, BootstrapUser>>;
}

/** Where to reach another server. Credentials come from PostgresSettings (they are cluster-wide). */
export interface ConnInfo {
  readonly host: string;
  readonly port: number;
  /** Member name of that server, recorded as our upstream so probe().following can report it. */
  readonly member?: string | null;
}

export interface StartOptions {
  readonly asStandby: boolean;
  /** Upstream to stream from (standby only); absent: a standby with no upstream (WAL from archive only). */
  readonly primaryConninfo?: ConnInfo | null;
  /** Physical slot on the upstream; used only when settings.useSlots. */
  readonly slotName?: string | null;
}

export type StopMode = 'smart' | 'fast' | 'immediate';

/** One row of pg_stat_replication, LSNs in bytes. */
export interface ReplicationRow {
  readonly applicationName: string;
  readonly state: string | null;
  readonly syncState: string | null;
  readonly flushLsn: number | null;
  readonly replayLsn: number | null;
}

/** Facts about the local instance at one moment. LSNs are byte positions (X/Y -> X*2^32+Y). */
export interface PgProbe {
  /** 'empty': no directory or nothing in it; 'invalid': files but no PG_VERSION or unreadable pg_control. */
  readonly dataDir: 'empty' | 'initialized' | 'invalid';
  readonly sysid: string | null;
  /** pid from postmaster.pid when that process exists (the server may still be starting). */
  readonly postmasterPid: number | null;
  /** The postmaster is alive AND answered our query. */
  readonly running: boolean;
  /** Only meaningful while running. */
  readonly inRecovery: boolean;
  readonly timeline: number | null;
  /** primary: flush LSN; replica: max(received, replayed). */
  readonly walPosition: number | null;
  readonly receivedLsn: number | null;
  readonly replayedLsn: number | null;
  /** pg_controldata "Database cluster state" ('in production', 'shut down', 'in archive recovery', ...). */
  readonly controlState: string | null;
  /** standby.signal or recovery.signal exists. */
  readonly standbySignal: boolean;
  /** Upstream member name read back from our managed standby file (null: none configured). */
  readonly following: string | null;
  /**
   * pg_stat_wal_receiver.status while in recovery ('streaming', 'waiting', 'starting', ...); null
   * when no WAL receiver runs (replaying from the archive, or nothing to connect to).
   */
  readonly walReceiver: string | null;
  readonly replication: readonly ReplicationRow[];
  /** server_version_num, e.g. 150018. */
  readonly serverVersion: number | null;
  /** pg_postmaster_start_time() as ISO 8601. */
  readonly postmasterStartTime: string | null;
  /** Parameters whose change waits for a restart. */
  readonly pendingRestart: readonly string[];
}

export interface RewindResult {
  readonly ok: boolean;
  /** pg_rewind's combined output (contains no password: the passfile supplies it). */
  readonly output: string;
  /** Where the local timeline's WAL was copied before rewinding (null when there was none). */
  readonly divergedWalDir: string | null;
}

export interface SlotSyncResult {
  readonly created: readonly string[];
  readonly dropped: readonly string[];
  /** Slots we wanted to drop but could not (e.g. busy); the next call retries. */
  readonly failed: readonly string[];
  /** True when nothing was done because the server is in recovery. */
  readonly skippedInRecovery: boolean;
}

/** Narrow logger; a pino Logger fits. Messages and fields never carry passwords. */
export interface PgLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
