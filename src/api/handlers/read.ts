/**
 * The read-only endpoints: health checks, /patroni, /cluster, /history, /config, /failsafe,
 * /metrics and /history/decisions (/jobs and /raft are in raft.ts). None needs credentials (as in Patroni).
 */
import { DcsUnavailableError } from '../../dcs/errors.js';
import type { ClusterView } from '../../dcs/types.js';
import { clusterSummary } from '../cluster-json.js';
import { HEALTH_PATHS, healthStatus } from '../health.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from '../metrics.js';
import { errorResponse, type Handler, type Route } from '../types.js';

/** One handler per health path: the check decides the code, the body is the status JSON. */
function healthHandler(path: string): Handler {
  const check = HEALTH_PATHS.get(path)!;
  return (req, { backend }) => {
    const status = healthStatus(check, backend.health(), req.query, backend.name);
    return { status, json: backend.status() };
  };
}

const patroni: Handler = async (_req, { backend }) => ({ status: 200, json: backend.liveStatus ? await backend.liveStatus() : backend.status() });

const cluster: Handler = async (_req, { backend }) => {
  const view = await backend.cluster(); // DcsUnavailableError -> 503 in server.ts
  return { status: 200, json: clusterSummary(view, backend.scope) };
};

const history: Handler = async (_req, { backend }) => {
  const view = await backend.cluster();
  return { status: 200, json: view.history?.value ?? [] };
};

const config: Handler = async (_req, { backend }) => {
  const current = await backend.dynamicConfig();
  // 502 as in Patroni: the upstream store has no value for us to relay.
  return current ? { status: 200, json: current.value } : errorResponse(502, 'the dynamic configuration is not in the DCS yet');
};

/**
 * The /failsafe member list. While the DCS is unreachable (exactly when failsafe matters) the list
 * from the last view the loop read is shown, as Patroni shows its cached copy.
 */
const failsafe: Handler = async (_req, { backend }) => {
  let view: ClusterView | null;
  try {
    view = await backend.cluster();
  } catch (e) {
    if (!(e instanceof DcsUnavailableError)) throw e;
    view = backend.lastCluster();
  }
  return view?.failsafe ? { status: 200, json: view.failsafe } : errorResponse(502, 'failsafe mode is not active (no /failsafe key)');
};

const metrics: Handler = (_req, { backend }) => ({
  status: 200,
  text: { contentType: METRICS_CONTENT_TYPE, body: renderMetrics(backend.status(), backend.health()) },
});

const decisions: Handler = (_req, { backend }) => ({ status: 200, json: backend.decisions() });


export const readRoutes: readonly Route[] = [
  ...[...HEALTH_PATHS.keys()].map((path): Route => ({ method: 'GET', path, body: 'none', handler: healthHandler(path) })),
  { method: 'GET', path: '/patroni', body: 'none', handler: patroni },
  { method: 'GET', path: '/cluster', body: 'none', handler: cluster },
  { method: 'GET', path: '/history', body: 'none', handler: history },
  { method: 'GET', path: '/history/decisions', body: 'none', handler: decisions },
  { method: 'GET', path: '/config', body: 'none', handler: config },
  { method: 'GET', path: '/failsafe', body: 'none', handler: failsafe },
  { method: 'GET', path: '/metrics', body: 'none', handler: metrics },
];
