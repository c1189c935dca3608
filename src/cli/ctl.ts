#!/usr/bin/env node
/**
 * `ctl`: the operator's command line (patronictl's commands and output formats).
 *
 * With a raft: section (built-in DCS) ctl reads the cluster through the local agent's REST API
 * (restapi.listen / connect_address), since the store lives inside the agents; `ctl raft ...` manages
 * the Raft membership.
 *
 * Global options: -c/--config-file FILE (env PATRONICTL_CONFIG_FILE), or --dcs-url
 * etcd3://HOST:PORT[/NAMESPACE] with --scope NAME; -k/--insecure is accepted and reserved.
 * Exit codes: 0 success, 1 the operation failed, 2 usage error (bad arguments, or a confirmation
 * that cannot be asked because stdin is not a terminal and --force was not given).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerAdminCommands } from './ctl/cmd-admin.js';
import { registerConfigCommands } from './ctl/cmd-config.js';
import { registerRaftCommands } from './ctl/cmd-raft.js';
import { registerReadCommands } from './ctl/cmd-read.js';
import { makeContext, type CtlContext, type CtlDeps, type GlobalOptions } from './ctl/context.js';
import { CtlError } from './ctl/errors.js';
import { processIo, type CtlIo } from './ctl/io.js';

export type { CtlIo } from './ctl/io.js';
export type { CtlDeps } from './ctl/context.js';

function buildProgram(io: CtlIo, deps: CtlDeps): Command {
  const program = new Command('ctl')
    .description('Manage a PostgreSQL HA cluster run by orchestrator agents (patronictl-compatible)')
    .option('-c, --config-file <file>', 'agent or ctl YAML configuration (env PATRONICTL_CONFIG_FILE)')
    .option('-d, --dcs-url <url>', 'DCS to use instead of the configuration\'s: etcd3://HOST:PORT[/NAMESPACE]')
    .option('--scope <name>', 'cluster name (default: scope from the configuration)')
    .option('-k, --insecure', 'reserved: allow TLS connections without certificate verification')
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  let ctx: CtlContext | null = null;
  // Resolved lazily so that `version` and `--help` work without a configuration.
  const getCtx = (): CtlContext => (ctx ??= makeContext(program.opts<GlobalOptions>(), io, deps));
  registerReadCommands(program, getCtx, io);
  registerAdminCommands(program, getCtx);
  registerConfigCommands(program, getCtx);
  registerRaftCommands(program, getCtx);
  // Subcommands inherit exitOverride and output settings from the program only when configured on each
  // (nested ones too: `ctl raft add`).
  const configure = (cmds: readonly Command[]): void => {
    for (const c of cmds) {
      c.exitOverride().configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
      configure(c.commands);
    }
  };
  configure(program.commands);
  return program;
}

/**
 * Runs ctl with `argv` (the arguments after the program name) and returns the exit code. Never
 * throws and never calls process.exit, so tests run it in-process.
 */
export async function main(argv: readonly string[], io: CtlIo = processIo(), deps: CtlDeps = {}): Promise<number> {
  const program = buildProgram(io, deps);
  if (argv.length === 0) {
    io.err(program.helpInformation().trimEnd());
    return 2;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // commander already printed why
    if (e instanceof CtlError) {
      io.err(e.exitCode === 2 ? `ctl: ${e.message}` : `Error: ${e.message}`);
      return e.exitCode;
    }
    io.err(`Error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

/** True when this module is the process's entry script (also through an npm bin symlink). */
function isEntry(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
