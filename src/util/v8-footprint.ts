/**
 * V8 heap settings for the long-running agent, applied on import: import this module first in an
 * entry point, before any module that allocates much.
 *
 * Why: V8 grows the young generation (two semi-spaces, up to 16 MiB each) while start-up work
 * (module loading, initdb/clone output) allocates fast, and keeps it grown for a while after: we saw
 * 16-17 MiB of new space in idle agents, i.e. RSS swinging by that much (issue 4).
 * `--max-semi-space-size` would cap it but is read only when the heap is set up (command line only;
 * a re-exec would cost a second process); the growth factor is read at every resize, so setting it
 * to 1 here keeps the young generation at its initial 1 MiB semi-spaces. Measured on a 3-node etcd
 * cluster: the 60 s RSS peak per agent fell from 107-113 to 89-103 MiB; mean RSS and CPU unchanged
 * within noise (more, smaller scavenges).
 *
 * ORCHESTRATOR_V8_DEFAULTS=0 leaves V8's defaults (for comparison runs).
 */
import { setFlagsFromString } from 'node:v8';

/** The flags applied; exported for tests and the footprint bench. */
export const AGENT_V8_FLAGS: readonly string[] = ['--semi-space-growth-factor=1'];

if (process.env['ORCHESTRATOR_V8_DEFAULTS'] !== '0') {
  for (const f of AGENT_V8_FLAGS) setFlagsFromString(f);
}
