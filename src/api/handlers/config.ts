/**
 * PATCH /config (JSON merge patch, RFC 7386) and PUT /config (replace). Both validate the result
 * with the dynamic config parser before writing it with compare-and-set, and both refuse PostgreSQL
 * parameters that run shell commands: anyone who can reach the REST port must not be able to make
 * every node run a program (Patroni accepts them; shared/reference/anchors.md).
 */
import { parseDynamicConfig, type Problem } from '../../config/index.js';
import { isPlainObject } from '../body.js';
import { errorResponse, RequestError, type Handler, type Route } from '../types.js';

/** Parameters whose value is a shell command PostgreSQL runs; only the local YAML file may set them. */
export const SHELL_COMMAND_PARAMETERS: readonly string[] = [
  'archive_command', 'restore_command', 'archive_cleanup_command', 'recovery_end_command', 'ssl_passphrase_command',
];

/**
 * RFC 7386 merge patch: objects merge key by key, `null` deletes, anything else replaces.
 * Returns a new value; neither input is modified.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Throws RequestError(400) when `body` sets (to anything but null) a shell-command parameter. */
export function refuseShellCommands(body: Record<string, unknown>): void {
  const pg = body['postgresql'];
  if (!isPlainObject(pg)) return;
  for (const section of ['parameters', 'recovery_conf']) {
    const params = pg[section];
    if (!isPlainObject(params)) continue;
    for (const [name, value] of Object.entries(params)) {
      // PostgreSQL parameter names are case-insensitive.
      if (value !== null && SHELL_COMMAND_PARAMETERS.includes(name.toLowerCase())) {
        throw new RequestError(400, `postgresql.${section}.${name}: runs a shell command, so it cannot be set over the REST API; ` +
          'set it in the local YAML configuration file (postgresql.parameters) of each node');
      }
    }
  }
}

/** Dotted paths of every value the body sets (leaves and nulls), for matching parser warnings. */
function touchedPaths(v: unknown, prefix = ''): string[] {
  if (!isPlainObject(v) || Object.keys(v).length === 0) return prefix === '' ? [] : [prefix];
  return Object.entries(v).flatMap(([k, child]) => touchedPaths(child, prefix === '' ? k : `${prefix}.${k}`));
}

function related(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`) || a.startsWith(`${b}[`);
}

function problemText(p: Problem): string {
  // The lenient parser says what it fell back to; for a refused request that part is noise.
  const message = p.message.replace(/; using the default .*$|; ignored$|; using ttl \d+$/, '');
  return p.path === '' ? message : `${p.path}: ${message}`;
}

/**
 * Validates a complete dynamic config: any error refuses it, and so does any warning about a key
 * the request touched (a bad value there would silently fall back to its default). Warnings about
 * keys the request did not touch were already in the DCS and do not block an unrelated change.
 */
export function validateDynamic(merged: unknown, requestBody: Record<string, unknown>): void {
  const checked = parseDynamicConfig(merged);
  const touched = touchedPaths(requestBody);
  const blocking = [...checked.errors, ...checked.warnings.filter((w) => touched.some((t) => related(w.path, t)))];
  if (blocking.length > 0) throw new RequestError(400, blocking.map(problemText).join('; '));
}

const patchConfig: Handler = async (req, { backend }) => {
  const patch = req.body as Record<string, unknown>;
  if (!isPlainObject(patch)) throw new RequestError(400, 'request body: expected a JSON object (a merge patch)');
  refuseShellCommands(patch);
  const current = await backend.dynamicConfig();
  if (!current) return errorResponse(503, 'the dynamic configuration is not in the DCS yet; nothing to patch');
  const merged = mergePatch(current.value, patch) as Record<string, unknown>;
  validateDynamic(merged, patch);
  const written = await backend.writeDynamicConfig(merged, current.version);
  if (!written.ok) return errorResponse(written.status, written.message);
  backend.wakeup();
  return { status: 200, json: merged };
};

const putConfig: Handler = async (req, { backend }) => {
  const value = req.body as Record<string, unknown>;
  if (!isPlainObject(value)) throw new RequestError(400, 'request body: expected a JSON object (the whole dynamic configuration)');
  refuseShellCommands(value);
  validateDynamic(value, value);
  const current = await backend.dynamicConfig();
  if (current && JSON.stringify(current.value) === JSON.stringify(value)) return { status: 200, json: value };
  const written = await backend.writeDynamicConfig(value, current?.version ?? null);
  if (!written.ok) return errorResponse(written.status, written.message);
  backend.wakeup();
  return { status: 200, json: value };
};

export const configRoutes: readonly Route[] = [
  { method: 'PATCH', path: '/config', body: 'required', handler: patchConfig },
  { method: 'PUT', path: '/config', body: 'required', handler: putConfig },
];
