/**
 * `orchestrator CONFIG`: wires config -> DCS adapter, PostgreSQL control, HA loop and REST API, and
 * handles signals: SIGTERM/SIGINT stop cleanly (a primary releases the leader key after a clean
 * stop), SIGHUP reloads the local config file.
 */
import pino, { type Logger } from 'pino';
import { loadConfig, reloadConfig, type Config } from '../config/index.js';
import { openDcs } from '../dcs/factory.js';
import { PostgresControl } from '../postgres/index.js';
import { startApiServer } from '../api/server.js';
import { Fence, fencePaths } from '../fence/fence.js';
import { Watchdog } from '../watchdog/watchdog.js';
import { Agent } from './agent.js';
import { AgentApi } from './api-backend.js';
import { effective, postgresSettings } from './settings.js';
import { findNameClash } from './unique-name.js';

function makeLogger(config: Config): Logger {
  const level = String(config.log?.level ?? 'info').toLowerCase();
  return pino({
    level: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(level) ? level : 'info',
    base: { name: config.name, scope: config.scope },
    redact: { paths: ['password', '*.password', 'token'], censor: '***' },
  });
}

export async function runAgent(configPath: string | null): Promise<number> {
  const loaded = loadConfig(configPath);
  for (const w of loaded.warnings) console.error(`WARNING ${w.path}: ${w.message}`);
  if (!loaded.config || loaded.errors.length) {
    for (const e of loaded.errors) console.error(`ERROR ${e.path}: ${e.message}`);
    console.error(`orchestrator: ${loaded.errors.length} error(s) in ${configPath ?? 'the environment configuration'}; not starting`);
    return 1;
  }
  const config = loaded.config;
  const log = makeLogger(config);
  const eff = effective(config, null);
  const dcs = await openDcs(config, {
    ttlSeconds: eff.ttl,
    retryTimeoutSeconds: eff.retry_timeout,
    // Renew the lease from its own thread a few times per ttl, so a busy event loop cannot starve it.
    keeperIntervalMs: Math.max(500, Math.min(eff.loop_wait * 1000, (eff.ttl * 1000) / 4)),
    onDataWarning: (key, problem) => log.warn({ key }, `ignoring a malformed DCS value: ${problem}`),
    log,
  });
  const myApiUrl = `${config.restapi.certfile ? 'https' : 'http'}://${config.restapi.connect_address ?? config.restapi.listen}/patroni`;
  const clash = await findNameClash(dcs, config.name, myApiUrl, log);
  if (clash) {
    log.fatal({ other: clash.apiUrl }, `Can't start; there is already a node named '${config.name}' running (its REST API at ${clash.apiUrl} answers). Give each node a unique name.`);
    await dcs.close().catch(() => undefined);
    log.flush?.();
    return 1;
  }
  const pg = new PostgresControl(postgresSettings(config, eff), { log });
  const fp = fencePaths(config.scope, config.name, eff.postgresql.data_dir);
  const fence = new Fence(fp.state, eff.postgresql.data_dir, fp.log);
  const wd = config.watchdog;
  const watchdog = wd.mode === 'off' ? null : new Watchdog({ mode: wd.mode, device: wd.device, safetyMarginSeconds: wd.safety_margin, ttlSeconds: eff.ttl });
  const agent = new Agent({ config, dcs, pg, log, fence, watchdog });
  const backend = new AgentApi(agent);
  const auth = config.restapi.authentication;
  const api = await startApiServer({
    listen: config.restapi.listen,
    backend,
    auth: auth?.username && auth.password ? { username: auth.username, password: String(auth.password) } : null,
    log,
  });
  log.info({ port: api.port, dcs: dcs.name }, `orchestrator agent started for member ${config.name} of cluster ${config.scope}`);

  const reload = () => {
    if (!configPath) return;
    const r = reloadConfig(configPath, agent.config);
    if (!r.ok) {
      for (const e of r.errors) log.error({ path: e.path }, `config reload refused: ${e.message}`);
      return;
    }
    agent.config = r.config;
    log.info({ changed: r.changed }, 'configuration reloaded');
    if (agent.probe?.running) agent.callbacks.fire('on_reload', agent.callbackRole());
    agent.wakeup();
  };
  backend.reloadRequested = reload;
  process.on('SIGHUP', reload);

  let stopping: Promise<void> | null = null;
  const stop = (sig: string) => {
    if (stopping) return;
    log.info({ signal: sig }, 'stopping');
    stopping = agent.shutdown().finally(() => api.close());
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  await agent.run();
  if (stopping) await stopping;
  log.info('stopped');
  log.flush?.();
  return 0;
}
