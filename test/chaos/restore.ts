/**
 * Undo whatever a chaos scenario may have left behind, so the next scenario starts from a whole
 * cluster even after a failed one: every etcd link passes traffic, etcd runs (when the cluster has
 * one), no agent is frozen,
 * and every agent process runs (an agent starts its PostgreSQL itself).
 */
import type { LocalCluster } from '../support/cluster.js';

async function etcdAnswers(cluster: LocalCluster): Promise<boolean> {
  try {
    const r = await fetch(`http://${cluster.etcd.endpoint}/health`, { signal: AbortSignal.timeout(2000) });
    return r.ok;
  } catch { return false; }
}

export async function restoreAll(cluster: LocalCluster): Promise<void> {
  for (const n of cluster.nodes) n.etcdProxy?.heal();
  if (cluster.hasEtcd && !(await etcdAnswers(cluster))) await cluster.etcd.restart();
  for (const n of cluster.nodes) {
    // SIGCONT to a process that is not stopped does nothing.
    n.proc?.child.kill('SIGCONT');
    n.start();
  }
}
