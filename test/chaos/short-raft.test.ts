/**
 * Chaos on the built-in Raft DCS (issue 4), strict synchronous mode, one cluster: the faults of
 * part 1 that need no etcd, plus the death and the freeze of the node that leads the Raft group
 * (it holds every agent's leases). The same checks as on etcd: no split brain, no acknowledged
 * write lost, the cluster heals.
 */
import {
  freezePrimaryAgent, freezeRaftLeader, killPrimaryAgent, killPrimaryNode, killRaftLeader, restartAll, selectScenarios, switchoverUnderLoad,
} from './scenarios.js';
import { strictChaosSuite } from './suite.js';

const mine = [killRaftLeader, killPrimaryNode, freezeRaftLeader, killPrimaryAgent, freezePrimaryAgent, switchoverUnderLoad, restartAll];
const chosen = selectScenarios().filter((s) => mine.includes(s));
strictChaosSuite('chaos (strict sync, built-in Raft DCS): Raft leader and primary faults', 'chaos-raft', chosen, 'raft');
