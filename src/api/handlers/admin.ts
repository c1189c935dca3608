/**
 * Admin endpoints: reload, restart, reinitialize, switchover, failover, and the internal POST
 * /failsafe between members (rest-api.md §3.4). This file
 * only parses and validates bodies; every decision about whether the action is possible (Patroni's
 * 400/412/503 cases) is the backend's, which turns the request into a DCS record or a job.
 */
import type { AdminResult, FailsafeRequest, RestartRequest, SwitchoverRequest } from '../backend.js';
import { bool, isPlainObject, num, str, validateBody } from '../body.js';
import { RequestError, type ApiResponse, type Handler, type Route } from '../types.js';

/** AdminResult -> response: text bodies become {"message"} on success and {"error"} on failure. */
export function adminResponse(r: AdminResult): ApiResponse {
  if (typeof r.body !== 'string') return { status: r.status, json: r.body };
  return { status: r.status, json: r.status >= 400 ? { error: r.body } : { message: r.body } };
}

/**
 * A schedule must name its time zone (400 otherwise, as in Patroni: "10:00" on which clock?);
 * an unparsable one gets `unparsableStatus` (Patroni: 422 for restart, 400 for switchover).
 */
function checkTimestamp(field: string, text: string, unparsableStatus: number): void {
  const expected = `expected an ISO 8601 timestamp with a time zone such as "2030-01-31T10:00:00+00:00", got ${JSON.stringify(text)}`;
  if (!/(Z|[+-]\d{2}(:?\d{2})?)$/i.test(text.trim())) throw new RequestError(400, `field "${field}": ${expected}`);
  if (!Number.isFinite(Date.parse(text))) throw new RequestError(unparsableStatus, `field "${field}": ${expected}`);
}

const reload: Handler = async (req, { backend }) => {
  validateBody(req.body, {});
  return adminResponse(await backend.reload());
};

const restartSpec = {
  restart_pending: bool(),
  role: str(['master', 'primary', 'replica']),
  postgres_version: str(),
  timeout: num(true),
  schedule: str(),
};

const restart: Handler = async (req, { backend }) => {
  const b = validateBody(req.body, restartSpec);
  if (typeof b['postgres_version'] === 'string' && !/^\d+(\.\d+){0,2}$/.test(b['postgres_version'])) {
    throw new RequestError(400, `field "postgres_version": expected a version such as "15" or "15.4", got ${JSON.stringify(b['postgres_version'])}`);
  }
  if (typeof b['schedule'] === 'string') checkTimestamp('schedule', b['schedule'], 422);
  return adminResponse(await backend.restart(b as RestartRequest));
};

const cancelRestart: Handler = async (req, { backend }) => {
  validateBody(req.body, {});
  return adminResponse(await backend.cancelScheduledRestart());
};

const reinitialize: Handler = async (req, { backend }) => {
  const b = validateBody(req.body, { force: bool() });
  return adminResponse(await backend.reinitialize(b['force'] === true));
};

const switchoverSpec = { leader: str(), candidate: str(), member: str(), scheduled_at: str(), wait: bool() };

/** Parses a switchover/failover body; `member` is Patroni's older name for `candidate`. */
export function parseSwitchoverBody(body: unknown): SwitchoverRequest {
  const b = validateBody(body, switchoverSpec);
  const candidate = b['candidate'] as string | undefined;
  const member = b['member'] as string | undefined;
  if (candidate !== undefined && member !== undefined && candidate !== member) {
    throw new RequestError(400, `fields "candidate" (${JSON.stringify(candidate)}) and "member" (${JSON.stringify(member)}) disagree; give one of them`);
  }
  for (const key of ['leader', 'candidate', 'member'] as const) {
    if (b[key] === '') throw new RequestError(400, `field "${key}": expected a member name, got an empty string`);
  }
  const at = b['scheduled_at'];
  if (typeof at === 'string') checkTimestamp('scheduled_at', at, 400);
  const who = candidate ?? member;
  return {
    ...(typeof b['leader'] === 'string' ? { leader: b['leader'] } : {}),
    ...(who !== undefined ? { member: who } : {}),
    ...(typeof at === 'string' ? { scheduled_at: at } : {}),
    ...(typeof b['wait'] === 'boolean' ? { wait: b['wait'] } : {}),
  };
}

function switchoverHandler(kind: 'switchover' | 'failover'): Handler {
  return async (req, { backend }) => adminResponse(await backend.switchover(parseSwitchoverBody(req.body), kind));
}

const cancelSwitchover: Handler = async (req, { backend }) => {
  validateBody(req.body, {});
  return adminResponse(await backend.cancelScheduledSwitchover());
};

/**
 * Parses a POST /failsafe body. Unknown fields are ignored, unlike the operator endpoints: the
 * sender is another member's agent (possibly a newer Patroni), not a person who mistyped a key.
 */
export function parseFailsafeBody(body: unknown): FailsafeRequest {
  if (!isPlainObject(body)) throw new RequestError(400, 'request body: expected a JSON object with name and api_url');
  const text = (key: string, required: boolean): string | undefined => {
    const v = body[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v === '') throw new RequestError(400, `field "${key}": expected a non-empty string, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
    return v;
  };
  const slots = body['slots'];
  if (slots !== undefined && slots !== null) {
    if (!isPlainObject(slots)) throw new RequestError(400, 'field "slots": expected an object of slot names to LSNs');
    for (const [k, v] of Object.entries(slots)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new RequestError(400, `field "slots.${k}": expected an LSN as a number, got ${JSON.stringify(v)}`);
    }
  }
  const conn = text('conn_url', false);
  return {
    name: text('name', true)!,
    api_url: text('api_url', true)!,
    ...(conn !== undefined ? { conn_url: conn } : {}),
    ...(isPlainObject(slots) ? { slots: slots as Record<string, number> } : {}),
  };
}

/** Patroni's sender compares the body with the bare text "Accepted", so answers are plain text. */
const failsafe: Handler = (req, { backend }) => {
  const r = backend.failsafe(parseFailsafeBody(req.body));
  return { status: r.status, text: { contentType: 'text/plain; charset=utf-8', body: typeof r.body === 'string' ? r.body : JSON.stringify(r.body) } };
};

export const adminRoutes: readonly Route[] = [
  { method: 'POST', path: '/reload', body: 'optional', handler: reload },
  { method: 'POST', path: '/restart', body: 'optional', handler: restart },
  { method: 'DELETE', path: '/restart', body: 'optional', handler: cancelRestart },
  { method: 'POST', path: '/reinitialize', body: 'optional', handler: reinitialize },
  { method: 'POST', path: '/switchover', body: 'required', handler: switchoverHandler('switchover') },
  { method: 'POST', path: '/failover', body: 'required', handler: switchoverHandler('failover') },
  { method: 'DELETE', path: '/switchover', body: 'optional', handler: cancelSwitchover },
  { method: 'POST', path: '/failsafe', body: 'required', handler: failsafe },
];
