/**
 * Chaos, short form, part 1 of 2 (strict synchronous mode, one cluster): deaths and freezes of the
 * primary's node, PostgreSQL and agent, and a switchover under load. See harness.ts for the checks.
 */
import { freezePrimaryAgent, killPostgres, killPrimaryAgent, killPrimaryNode, selectScenarios, switchoverUnderLoad } from './scenarios.js';
import { strictChaosSuite } from './suite.js';

const mine = [killPrimaryNode, killPostgres, killPrimaryAgent, freezePrimaryAgent, switchoverUnderLoad];
const chosen = selectScenarios().filter((s) => mine.includes(s));
strictChaosSuite('chaos (strict sync): node, PostgreSQL and agent faults on the primary', 'chaos-a', chosen);
