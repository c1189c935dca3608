/**
 * WAL positions. PostgreSQL prints an LSN as 'X/Y' (two hex numbers, high and low 32 bits); we
 * carry it as a number of bytes, X*2^32+Y, exact up to 2^53 (8 PiB of WAL, far beyond any cluster).
 */

const LSN_RE = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** 'X/Y' -> bytes. Throws on anything else (callers parse server output, so garbage is a bug). */
export function parseLsn(text: string): number {
  const m = LSN_RE.exec(text.trim());
  if (!m) throw new Error(`not an LSN: expected 'X/Y' in hex, got '${text}'`);
  return parseInt(m[1] ?? '0', 16) * 2 ** 32 + parseInt(m[2] ?? '0', 16);
}

/** Like parseLsn, but null/undefined stays null. */
export function parseLsnOrNull(text: string | null | undefined): number | null {
  return text === null || text === undefined ? null : parseLsn(text);
}

/** bytes -> 'X/Y' in PostgreSQL's spelling (upper-case hex, no padding). */
export function formatLsn(bytes: number): string {
  const hi = Math.floor(bytes / 2 ** 32);
  const lo = bytes - hi * 2 ** 32;
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}

/** Timeline id as used in WAL file names: 8 upper-case hex digits. */
export function timelineHex(tli: number): string {
  return tli.toString(16).toUpperCase().padStart(8, '0');
}
