/**
 * Raft membership endpoints and the job listing (built-in raft DCS):
 *   GET /raft, POST /raft/transfer-leader {target}, POST /raft/peers {peer}, DELETE /raft/peers/{peer},
 *   GET /jobs, GET /jobs/{id} (switchover jobs of this agent merged with the replicated raft jobs),
 *   POST /HttpService/Emit (Klustron cluster_mgr's job API: raft_mission and get_status).
 * Mutating routes are POST/DELETE, so the router runs the auth guard before them. Submitting answers
 * 202 with the job at once; the Raft leader carries it out (GET /jobs/{id} follows it).
 */
import { checkPeerId, JobInputError } from '../../raft/jobs.js';
import type { ApiBackend, Job, RaftJobKind } from '../backend.js';
import { isPlainObject, str, validateBody } from '../body.js';
import { errorResponse, RequestError, type ApiRequest, type ApiResponse, type Handler, type Route } from '../types.js';

function peerField(field: string, v: unknown): string {
  try {
    return checkPeerId(`field "${field}"`, v);
  } catch (e) {
    throw new RequestError(400, e instanceof JobInputError ? e.message : String(e));
  }
}

function requireRaft(backend: ApiBackend): NonNullable<ApiBackend['raftSubmit']> {
  if (!backend.raftSubmit || backend.raftStatus?.() == null) throw new RequestError(404, 'this agent does not run the built-in raft DCS');
  return backend.raftSubmit.bind(backend);
}

async function submit(backend: ApiBackend, kind: RaftJobKind, params: { target?: string; peer?: string }): Promise<ApiResponse> {
  const job = await requireRaft(backend)(kind, params);
  return { status: 202, json: job };
}

/** GET /raft: term, leader, commit index, and each peer's role, match index and last contact. */
const raft: Handler = (_req, { backend }) => {
  const st = backend.raftStatus?.() ?? null;
  return st === null ? errorResponse(404, 'this agent does not run the built-in raft DCS') : { status: 200, json: st };
};

const transferLeader: Handler = (req, { backend }) => {
  const b = validateBody(req.body, { target: str() });
  return submit(backend, 'transfer_leader', { target: peerField('target', b['target']) });
};

const addPeer: Handler = (req, { backend }) => {
  const b = validateBody(req.body, { peer: str() });
  return submit(backend, 'add_peer', { peer: peerField('peer', b['peer']) });
};

function lastSegment(req: ApiRequest, prefix: string, what: string): string {
  try {
    return decodeURIComponent(req.path.slice(prefix.length));
  } catch {
    throw new RequestError(400, `${what}: malformed percent-encoding`);
  }
}

const removePeer: Handler = (req, { backend }) => submit(backend, 'remove_peer', { peer: peerField('peer', lastSegment(req, '/raft/peers/', 'peer')) });

/** This agent's in-memory jobs plus the replicated raft jobs (a raft read failure leaves those out). */
async function allJobs(backend: ApiBackend): Promise<readonly Job[]> {
  const raftJobs = (await backend.raftJobs?.()) ?? [];
  return [...backend.jobs(), ...raftJobs].sort((a, b) => a.created_at.localeCompare(b.created_at));
}

async function findJob(backend: ApiBackend, id: string): Promise<Job | null> {
  return backend.job(id) ?? (await backend.raftJob?.(id)) ?? null;
}

const jobs: Handler = async (_req, { backend }) => ({ status: 200, json: await allJobs(backend) });

const job: Handler = async (req, { backend }) => {
  const id = lastSegment(req, '/jobs/', 'job id');
  const found = await findJob(backend, id);
  return found ? { status: 200, json: found } : errorResponse(404, `no job with id ${JSON.stringify(id)}`);
};

// --- cluster_mgr's POST /HttpService/Emit ---

const EMIT_TASKS: readonly RaftJobKind[] = ['transfer_leader', 'add_peer', 'remove_peer'];

/** cluster_mgr's job status words: a job is accepted, then ongoing, then done or failed. */
function emitStatus(state: Job['state']): string {
  return state === 'succeeded' ? 'done' : state === 'failed' ? 'failed' : 'ongoing';
}

function emitReply(version: string, fields: Record<string, unknown>): ApiResponse {
  return { status: 200, json: { version, error_code: '0', error_info: '', ...fields } };
}

/** Top-level fields besides `paras` (checked separately: it is an object). */
const emitSpec = { version: str(), job_id: str(), job_type: str(['raft_mission', 'get_status']), timestamp: str(), user_name: str() };

function checkEmitBody(body: unknown): Record<string, unknown> {
  if (!isPlainObject(body)) throw new RequestError(400, 'request body: expected a JSON object');
  const { paras, ...top } = body;
  // cluster_mgr clients send the timestamp as a string; accept a number too.
  if (typeof top['timestamp'] === 'number') top['timestamp'] = String(top['timestamp']);
  const b = validateBody(top, emitSpec);
  if (b['job_type'] === undefined) throw new RequestError(400, 'field "job_type": required: raft_mission or get_status');
  if (paras !== undefined && !isPlainObject(paras)) throw new RequestError(400, 'field "paras": expected an object');
  return { ...b, paras: paras ?? {} };
}

const emit: Handler = async (req, { backend }) => {
  const b = checkEmitBody(req.body);
  const version = typeof b['version'] === 'string' ? b['version'] : '1.0';
  if (b['job_type'] === 'get_status') {
    const id = b['job_id'];
    if (typeof id !== 'string' || id === '') throw new RequestError(400, 'field "job_id": expected the id a raft_mission answered with');
    const found = await findJob(backend, id);
    if (!found) return errorResponse(404, `field "job_id": no job with id ${JSON.stringify(id)}`);
    return emitReply(version, {
      job_id: found.id, job_type: found.kind, status: emitStatus(found.state), state: found.state,
      error_info: found.state === 'failed' ? found.message : '', ...(found.state === 'failed' ? { error_code: '1' } : {}),
      attachment: found,
    });
  }
  const paras = b['paras'] as Record<string, unknown>;
  const task = paras['task_type'];
  if (typeof task !== 'string' || !EMIT_TASKS.includes(task as RaftJobKind)) {
    throw new RequestError(400, `field "paras.task_type": expected one of ${EMIT_TASKS.join(', ')}, got ${JSON.stringify(task ?? null)}`);
  }
  const kind = task as RaftJobKind;
  const params = kind === 'transfer_leader' ? { target: peerField('paras.target_leader', paras['target_leader']) } : { peer: peerField('paras.peer', paras['peer']) };
  const created = await requireRaft(backend)(kind, params);
  return emitReply(version, { job_id: created.id, job_type: 'raft_mission', status: 'accept', attachment: null });
};

export const raftRoutes: readonly Route[] = [
  { method: 'GET', path: '/raft', body: 'none', handler: raft },
  { method: 'POST', path: '/raft/transfer-leader', body: 'required', handler: transferLeader },
  { method: 'POST', path: '/raft/peers', body: 'required', handler: addPeer },
  { method: 'DELETE', path: '/raft/peers/*', body: 'optional', handler: removePeer },
  { method: 'GET', path: '/jobs', body: 'none', handler: jobs },
  { method: 'GET', path: '/jobs/*', body: 'none', handler: job },
  { method: 'POST', path: '/HttpService/Emit', body: 'required', handler: emit },
];
