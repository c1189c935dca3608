/**
 * SafetyDevices: the fence follows every pushed state, and the 1 s feeding timer runs only while a
 * watchdog device is open (an idle replica or a primary without a device does not wake for it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Fence } from '../../src/fence/fence.js';
import { SafetyDevices, type GuardState } from '../../src/ha/safety-devices.js';
import { RepeatLimiter } from '../../src/util/repeat-limiter.js';
import type { Watchdog } from '../../src/watchdog/watchdog.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fakes() {
  const fence = { arms: [] as number[], disarms: 0, ensureRunning: () => 1, arm(d: number) { this.arms.push(d); }, disarm() { this.disarms++; }, stop() {} };
  const wd = { mode: 'automatic', active: false, feeds: 0, activate() { this.active = true; return { ok: true, detail: '' }; }, keepalive() { this.feeds++; }, disable() { this.active = false; } };
  return { fence, wd };
}

test('the watchdog is fed by a timer only while it is open; the fence follows each nudge', async () => {
  const { fence, wd } = fakes();
  const log = pino({ level: 'silent' });
  const g = new SafetyDevices(fence as unknown as Fence, wd as unknown as Watchdog, log, new RepeatLimiter(log), () => performance.now());
  let state: GuardState = { deadline: null, lockValid: false, holdsLock: false, primary: false };
  g.start(() => state);
  try {
    g.nudge();
    assert.equal(fence.disarms, 1);
    await sleep(1300);
    assert.equal(wd.feeds, 0, 'a replica feeds nothing');

    const deadline = performance.now() + 30_000;
    state = { deadline, lockValid: true, holdsLock: true, primary: true };
    g.nudge();
    assert.equal(wd.active, true);
    assert.deepEqual(fence.arms, [deadline]);
    await sleep(2300);
    assert.ok(wd.feeds >= 3, `fed ${wd.feeds} times in 2.3 s (1 at the nudge, then once a second)`);

    state = { deadline: null, lockValid: false, holdsLock: false, primary: false };
    g.nudge();
    assert.equal(wd.active, false);
    const fed = wd.feeds;
    await sleep(1300);
    assert.equal(wd.feeds, fed, 'no feeding once the device is closed');
  } finally {
    g.stop();
  }
});
