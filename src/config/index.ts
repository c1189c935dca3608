/**
 * Public API of the configuration module. Everything else in src/config/ is internal.
 */
export { configSchema } from './schema.js';
export type {
  BootstrapConfig, Config, ConsulConfig, EtcdConfig, LogConfig, PostgresqlConfig, PostgresUser, RaftConfig,
  RestApiConfig, TagsConfig, WatchdogConfig,
} from './schema.js';
export {
  DEFAULT_TIMING, MIN_LOOP_WAIT, MIN_RETRY_TIMEOUT, MIN_TTL, dynamicConfigSchema, parseDynamicConfig, timingProblem,
} from './dynamic.js';
export type { DynamicConfig, Timing } from './dynamic.js';
export { DYNAMIC_ONLY_PARAMETERS, effectiveConfig } from './effective.js';
export type { DynamicGlobals, EffectiveConfig, EffectivePostgresql } from './effective.js';
export type { Checked, Problem } from './problem.js';
export { validateConfig } from './check.js';
export { REQUIRED_BINARIES } from './rules.js';
export type { RuleOptions } from './rules.js';
export { applyEnv } from './env.js';
export { changedSections, loadConfig, reloadConfig } from './load.js';
export type { LoadOptions, LoadResult, ReloadResult } from './load.js';
export { AddressError, formatHostPort, isWildcardHost, parseHostPort, parseListen } from './address.js';
export type { HostPort, ListenAddress } from './address.js';
export { dcsKind, etcdHosts, etcdProtocol, etcdSection } from './dcs.js';
export type { DcsKind } from './dcs.js';
