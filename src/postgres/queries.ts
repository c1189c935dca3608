/** SQL fragments shared by the probe, the divergence check and the rewind. */

/**
 * Timeline of a primary, from the name of the WAL file it writes now. Unlike
 * pg_control_checkpoint().timeline_id this is exact right after a promotion, before the first
 * checkpoint on the new timeline. Only valid outside recovery.
 */
export const PRIMARY_TLI_SQL =
  `('x' || substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()), 1, 8))::bit(32)::int`;

/** Timeline of a replica: what its walreceiver last received, else its last restartpoint's. */
export const REPLICA_TLI_SQL =
  `COALESCE((SELECT received_tli FROM pg_catalog.pg_stat_wal_receiver WHERE received_tli > 0),
            (SELECT timeline_id FROM pg_catalog.pg_control_checkpoint()))`;
