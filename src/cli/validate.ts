/**
 * `orchestrator --validate-config <file>`: checks a configuration file and prints every problem.
 *
 * Output, one line each: "ERROR <key path>: <message>" for every error, "WARNING <key path>:
 * <message>" for every warning, then "configuration file <f> is valid" (exit code 0; warnings do
 * not fail it) or "<n> error(s) in <f>" (exit code 1). Environment overrides (PATRONI_*) are
 * applied, as when the agent starts, so what is checked is what would run.
 */
import { loadConfig, type LoadOptions, type Problem } from '../config/index.js';

function line(p: Problem): string {
  const label = p.severity === 'error' ? 'ERROR' : 'WARNING';
  return p.path === '' ? `${label}: ${p.message}` : `${label} ${p.path}: ${p.message}`;
}

/** Validates `file`, writes the report through `out`, and returns the process exit code (0 or 1). */
export function runValidateConfig(
  file: string,
  out: (line: string) => void,
  env: Readonly<Record<string, string | undefined>> = process.env,
  opts: LoadOptions = {},
): number {
  const result = loadConfig(file, env, opts);
  for (const p of result.errors) out(line(p));
  for (const p of result.warnings) out(line(p));
  if (result.errors.length === 0) {
    out(`configuration file ${file} is valid`);
    return 0;
  }
  out(`${result.errors.length} error(s) in ${file}`);
  return 1;
}
