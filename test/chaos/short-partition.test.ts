/**
 * Chaos, short form, part 2 of 2 (strict synchronous mode, one cluster): etcd partitions and
 * outage, a kill during a switchover, and a restart of every node at once. See harness.ts.
 */
import { isolatePrimary, isolateReplica, killNewPrimaryDuringSwitchover, restartAll, selectScenarios, stopEtcd } from './scenarios.js';
import { strictChaosSuite } from './suite.js';

const mine = [isolatePrimary, isolateReplica, stopEtcd, killNewPrimaryDuringSwitchover, restartAll];
const chosen = selectScenarios().filter((s) => mine.includes(s));
strictChaosSuite('chaos (strict sync): etcd partitions and outage, kill during switchover, restart all', 'chaos-b', chosen);
