/**
 * Public API of the REST module: the server, the backend interface the agent implements, and the
 * cluster summary (shared with ctl).
 */
export { startApiServer, MAX_BODY_BYTES, REQUEST_TIMEOUT_MS } from './server.js';
export type { ApiLog, ApiServer, ApiServerOptions } from './server.js';
export type {
  AdminResult, ApiBackend, HealthFacts, Job, NodeStatus, RestartRequest, SwitchoverRequest,
} from './backend.js';
export type { Credentials } from './auth.js';
export type { Guard } from './types.js';
export { clusterSummary } from './cluster-json.js';
export type { ClusterRole, ClusterSummary, MemberSummary } from './cluster-json.js';
