/**
 * Physical replication slots on the primary: one per member that streams from us, plus slots the
 * caller wants kept (permanent slots). Logical slots are never touched here.
 */
import type pg from 'pg';
import { withClient } from './client.js';
import type { PgContext } from './control.js';
import { PostgresConfigError } from './errors.js';
import type { SlotSyncResult } from './types.js';

/**
 * Slot name for a member, as Patroni derives it (so slots survive a migration): lower-case, '-'
 * and '.' become '_', any other character outside [a-z0-9_] becomes 'u' + its code point in 4+
 * digits, truncated to 63 characters.
 */
export function slotNameFromMember(member: string): string {
  return member.toLowerCase()
    .replace(/[^a-z0-9_]/gu, (c) => (c === '-' || c === '.' ? '_' : `u${String(c.codePointAt(0)).padStart(4, '0')}`))
    .slice(0, 63);
}

function checkSlotName(name: string): void {
  if (!/^[a-z0-9_]{1,63}$/.test(name)) {
    throw new PostgresConfigError(`replication slot name '${name}': expected 1-63 characters of a-z, 0-9 and _`);
  }
}

/**
 * Drop a slot unless a walsender is streaming through it; false when it is (or became) active.
 * An active slot is left alone, as Patroni does: its standby may only have lost the DCS (its member
 * key expired) while it still replicates, and ending its walsender would stop that replication and
 * the WAL retention it needs (found by the chaos suite, isolate-replica). It is dropped by a later
 * sync once the standby has disconnected.
 */
async function dropSlot(c: pg.Client, name: string): Promise<boolean> {
  const r = await c.query(
    `SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots
      WHERE slot_name = $1 AND NOT active`, [name]);
  return r.rowCount !== 0;
}

/**
 * Make the physical slots on this primary exactly `names` ∪ `keep`: create the missing ones from
 * `names` (reserving WAL at once, so a replica about to connect misses nothing) and drop the other
 * permanent physical slots that no walsender is using. Temporary slots (pg_basebackup -X stream
 * makes one per clone) are never touched: dropping one kills a clone in progress. On a server in
 * recovery nothing is done.
 */
export async function syncPhysicalSlots(ctx: PgContext, names: readonly string[], keep: readonly string[]): Promise<SlotSyncResult> {
  for (const n of [...names, ...keep]) checkSlotName(n);
  const wanted = new Set([...names, ...keep]);
  return withClient(ctx.target, 5000, async (c) => {
    const rec = await c.query('SELECT pg_catalog.pg_is_in_recovery() AS rec');
    if (rec.rows[0]?.rec === true) return { created: [], dropped: [], failed: [], skippedInRecovery: true };
    const rows = (await c.query(`SELECT slot_name, active FROM pg_catalog.pg_replication_slots WHERE slot_type = 'physical' AND NOT temporary`))
      .rows as { slot_name: string; active: boolean }[];
    const have = new Set(rows.map((r) => r.slot_name));
    // Unwanted but active slots are kept silently (see dropSlot); only inactive ones are dropped.
    const existing = rows.filter((r) => !r.active).map((r) => r.slot_name);
    const created: string[] = [];
    for (const n of names) {
      if (have.has(n)) continue;
      await c.query('SELECT pg_catalog.pg_create_physical_replication_slot($1, true)', [n]);
      created.push(n);
    }
    const dropped: string[] = [];
    const failed: string[] = [];
    for (const n of existing) {
      if (wanted.has(n)) continue;
      (await dropSlot(c, n) ? dropped : failed).push(n);
    }
    if (created.length + dropped.length + failed.length > 0) ctx.log.info({ created, dropped, failed }, 'physical slots synced');
    return { created, dropped, failed, skippedInRecovery: false };
  });
}
