/**
 * Shared helpers for the config tests: a minimal valid configuration, temp files that are removed
 * even when a test fails, and the path of the repository's configs/ folder.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

/** configs/ at the repository root (tests run from dist/test/config/). */
export const CONFIGS_DIR = fileURLToPath(new URL('../../../configs/', import.meta.url));

/** A small configuration that passes every check (no bin_dir, so no binaries are needed). */
export function minimalConfig(): Record<string, unknown> {
  return {
    scope: 'demo',
    name: 'node1',
    restapi: { listen: '127.0.0.1:8008', connect_address: '127.0.0.1:8008' },
    etcd3: { hosts: ['127.0.0.1:2379'] },
    bootstrap: { dcs: { ttl: 30, loop_wait: 10, retry_timeout: 10 } },
    postgresql: {
      listen: '127.0.0.1:5432',
      connect_address: '127.0.0.1:5432',
      data_dir: '/tmp/does-not-matter',
      authentication: {
        superuser: { username: 'postgres', password: 'super-secret-pw' },
        replication: { username: 'replicator', password: 'repl-secret-pw' },
      },
    },
  };
}

const dirs: string[] = [];

function removeAll(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
// Safety net: temp dirs go even if a test throws before its after() hook runs.
process.on('exit', removeAll);

/** A fresh temp directory, removed by cleanupTemp() or at process exit. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'orch-config-test-'));
  dirs.push(d);
  return d;
}

/** Removes every temp directory made so far (call from an after() hook). */
export function cleanupTemp(): void {
  removeAll();
}

/** Writes `content` (YAML text, or an object dumped as YAML) to a temp file and returns its path. */
export function writeConfig(content: string | Record<string, unknown>, name = 'config.yml'): string {
  const file = join(tempDir(), name);
  writeFileSync(file, typeof content === 'string' ? content : yaml.dump(content));
  return file;
}
