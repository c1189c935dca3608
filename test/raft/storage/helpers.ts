/** Shared helpers for the storage tests: temp dirs that are always removed, a recording logger. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../../../src/raft/core/types.js';
import type { StorageLogger } from '../../../src/raft/storage/index.js';

const made = new Set<string>();
let hooked = false;

/** A fresh temp dir, removed by the returned function and, as a safety net, at process exit. */
export function tempDir(prefix = 'raft-storage-'): { dir: string; remove: () => void } {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => { for (const d of made) rmSync(d, { recursive: true, force: true }); });
  }
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return { dir, remove: () => { rmSync(dir, { recursive: true, force: true }); made.delete(dir); } };
}

export interface LogLine { readonly level: 'info' | 'warn'; readonly msg: string; readonly fields: Record<string, unknown> }

export function recordingLogger(): StorageLogger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (fields, msg) => { lines.push({ level: 'info', msg, fields }); },
    warn: (fields, msg) => { lines.push({ level: 'warn', msg, fields }); },
  };
}

/** Entries lo..hi inclusive in `term`, each with data naming its index and term. */
export function ents(lo: number, hi: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push({ index: i, term, type: 'normal', data: new TextEncoder().encode(`e${i}t${term}`) });
  return out;
}

/** "index/term:data" for each entry: compact, readable assertion values. */
export function describe(list: readonly Entry[] | null): string[] | null {
  return list === null ? null : list.map((e) => `${e.index}/${e.term}:${new TextDecoder().decode(e.data)}`);
}

/** Flips the lowest bit of byte `at` (a single-bit error, the kind a CRC must catch). */
export function flipBit(buf: Uint8Array, at: number): void {
  buf[at] = (buf[at] ?? 0) ^ 0x01;
}
