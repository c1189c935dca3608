/** Deterministic contents shared by crash-writer.ts (writes) and crash.test.ts (checks). */

/** 40..1540 bytes that depend on index and term, so a misplaced or stale entry shows. */
export function crashPayload(index: number, term: number): Uint8Array {
  const len = 40 + ((index * 7919) % 1500);
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (index * 31 + term * 17 + i) & 0xff;
  return out;
}

export function crashSnapshotData(index: number): Uint8Array {
  return new TextEncoder().encode(`state-machine-image-up-to-${index}`);
}
