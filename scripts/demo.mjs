#!/usr/bin/env node
// `npm run demo`: a local 3-node cluster on this machine -- real PostgreSQL 15, three agents on
// loopback, each embedding a node of the built-in Raft DCS -- then the cluster view. Ctrl-C stops
// everything and removes the temp directory. Installs PostgreSQL/etcd with apt-get when missing
// (as root, via scripts/ensure-system.mjs); `npm run demo` builds the project first.
import { execFileSync, spawnSync } from 'node:child_process';

execFileSync(process.execPath, [new URL('./ensure-system.mjs', import.meta.url).pathname], { stdio: 'inherit' });
const { LocalCluster, CTL } = await import('../dist/test/support/cluster.js');
// The built-in Raft DCS (QLUSTER mode): no etcd or Consul needed. DEMO_DCS=etcd3 uses a local etcd.
const cluster = await LocalCluster.create({ nodes: 3, ttl: 10, loopWait: 2, retryTimeout: 3, scope: 'demo', dcsKind: process.env.DEMO_DCS === 'etcd3' ? 'etcd3' : 'raft' });
let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping the agents and PostgreSQL ...');
  for (const n of cluster.nodes) await n.stop(20_000).catch(() => undefined);
  await cluster.destroy();
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

cluster.startAll();
console.log(`starting 3 agents (logs in ${cluster.root}/node*.agent.log) ...`);
try {
  await cluster.waitForPrimary(120_000);
  await cluster.waitForReplicas(2, 120_000);
} catch (e) {
  console.error(String(e));
  console.error(cluster.dumpLogs(30));
  await stop(1);
}
// ctl list: in raft mode ctl reads the cluster through the local agent's REST API.
spawnSync(process.execPath, [CTL, ...cluster.ctlArgs(), 'list'], { stdio: 'inherit' });
console.log('\nREST API:');
for (const n of cluster.nodes) console.log(`  ${n.name}: ${n.apiBase}/patroni   PostgreSQL: 127.0.0.1:${n.pgPort} (user postgres, password super-secret)`);
console.log(`\nctl: node ${CTL} -c ${cluster.nodes[0].configPath} list`);
if (cluster.raftAddrs.length) console.log(`raft: node ${CTL} -c ${cluster.nodes[0].configPath} raft status   (or curl ${cluster.nodes[0].apiBase}/raft)`);
if (process.env.DEMO_EXIT) await stop(0);
console.log('Press Ctrl-C to stop the cluster.');
setInterval(() => undefined, 1 << 30);
