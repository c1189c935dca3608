#!/usr/bin/env node
/**
 * `orchestrator CONFIG`: runs one agent for the local PostgreSQL.
 * `orchestrator --version`, `orchestrator --validate-config FILE`.
 * `orchestrator --raft-only CONFIG`: an arbiter -- only a Raft voter from the raft: section, no PostgreSQL.
 * Exit codes: 0 success, 1 failure (invalid config, fatal error), 2 usage error.
 */
// First import: sets V8 heap flags before anything else allocates (see v8-footprint.ts).
import '../util/v8-footprint.js';
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { runValidateConfig } from './validate.js';

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('orchestrator')
    .description('High-availability agent for one PostgreSQL / QHB instance (Patroni-compatible config)')
    .argument('[config]', 'YAML configuration file (Patroni format); or set PATRONI_CONFIGURATION')
    .option('--validate-config <file>', 'check a configuration file, print every problem, and exit')
    .option('--raft-only', 'run only a Raft voter (arbiter) from the raft: section: no PostgreSQL')
    .version(`orchestrator ${VERSION}`, '--version', 'print the version and exit')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  try {
    program.parse(argv as string[], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  const opts = program.opts<{ validateConfig?: string; raftOnly?: boolean }>();
  if (opts.validateConfig) return runValidateConfig(opts.validateConfig, (l) => console.log(l));
  const config = program.args[0] ?? null;
  if (opts.raftOnly) {
    if (config === null) { console.error('orchestrator --raft-only: a CONFIG file is required'); return 2; }
    const { runArbiter } = await import('../raft/arbiter.js');
    return runArbiter(config);
  }
  const { runAgent } = await import('../ha/run.js');
  return runAgent(config);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => { console.error(`orchestrator: ${e instanceof Error ? e.message : String(e)}`); process.exitCode = 1; },
);
