/**
 * CRC-32C (Castagnoli), table-driven, one byte per step. Node 20 has no CRC in its standard
 * library (zlib.crc32 arrived in 22.2, and it is the IEEE polynomial anyway); Castagnoli is the
 * polynomial storage formats prefer for its better error detection on short records.
 */

/** Reflected form of the Castagnoli polynomial 0x1EDC6F41. */
const POLY = 0x82f63b78;

const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32C of bytes[start, end). Pass a previous result as `prev` to continue a checksum over
 * several ranges: crc32c(b, 0, 4) then crc32c(b, 4, n, that) equals crc32c(b, 0, n).
 */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length, prev = 0): number {
  let c = (prev ^ 0xffffffff) >>> 0;
  for (let i = start; i < end; i++) {
    // Both indexes are in range by construction; `!` avoids a branch in the hot loop.
    c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}
