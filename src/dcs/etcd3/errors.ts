/**
 * Maps the etcd3 client's errors onto ours (STYLE §5.4): one table, the original kept as `cause`.
 * Anything we do not recognise counts as "unavailable": for the HA loop an unknown failure must
 * mean "I cannot tell", never "I still hold the lock".
 */
import { EtcdLeaseInvalidError } from 'etcd3';
import { DcsUnavailableError, LeaseExpiredError } from '../errors.js';

/** etcd answers that mean the lease we used is gone on the server. */
const LEASE_GONE = [/requested lease not found/i, /lease not found/i];

export function isLeaseGone(e: unknown): boolean {
  if (e instanceof EtcdLeaseInvalidError || e instanceof LeaseExpiredError) return true;
  const msg = e instanceof Error ? e.message : String(e);
  return LEASE_GONE.some((re) => re.test(msg));
}

export function toDcsError(op: string, e: unknown): Error {
  if (e instanceof DcsUnavailableError || e instanceof LeaseExpiredError) return e;
  if (isLeaseGone(e)) return new LeaseExpiredError(`etcd ${op}: lease not found`, { cause: e });
  const msg = e instanceof Error ? e.message : String(e);
  // "etcdserver: no leader", "request timed out", connect failures, deadline exceeded, unavailable:
  // all the same to the HA loop.
  return new DcsUnavailableError(`etcd ${op} failed: ${msg.split('\n')[0]}`, { cause: e });
}
