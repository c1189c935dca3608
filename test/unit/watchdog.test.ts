/** The watchdog protocol against a stand-in device file (no /dev/watchdog on these machines). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requiredTimeoutSeconds, Watchdog } from '../../src/watchdog/watchdog.js';

function standIn(timeout: string | null) {
  const dir = mkdtempSync(join(tmpdir(), 'wd-'));
  const device = join(dir, 'watchdog');
  writeFileSync(device, '');
  const sysfs = join(dir, 'timeout');
  if (timeout !== null) writeFileSync(sysfs, timeout);
  return { dir, device, sysfs, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('armed: a keep-alive per renewal, magic close on disable', () => {
  const d = standIn('20\n');
  try {
    const wd = new Watchdog({ mode: 'required', device: d.device, safetyMarginSeconds: 5, ttlSeconds: 30, sysfsTimeoutFile: d.sysfs });
    const r = wd.activate();
    assert.equal(r.ok, true, r.detail);
    wd.keepalive();
    wd.keepalive();
    wd.disable();
    assert.equal(readFileSync(d.device, 'utf8'), '111V');
    assert.equal(wd.active, false);
  } finally { d.cleanup(); }
});

test('a device that fires later than ttl - safety_margin is refused, naming both numbers', () => {
  const d = standIn('60');
  try {
    const wd = new Watchdog({ mode: 'required', device: d.device, safetyMarginSeconds: 5, ttlSeconds: 30, sysfsTimeoutFile: d.sysfs });
    const r = wd.activate();
    assert.equal(r.ok, false);
    assert.match(r.detail, /60 s/);
    assert.match(r.detail, /25 s/);
    assert.equal(readFileSync(d.device, 'utf8'), '', 'a refused device is never opened for writing');
  } finally { d.cleanup(); }
});

test('unknown timeout or a missing device is not usable; mode off does nothing', () => {
  const d = standIn(null);
  try {
    assert.equal(new Watchdog({ mode: 'automatic', device: d.device, safetyMarginSeconds: 5, ttlSeconds: 30, sysfsTimeoutFile: d.sysfs }).activate().ok, false);
    assert.equal(new Watchdog({ mode: 'required', device: join(d.dir, 'nope'), safetyMarginSeconds: 5, ttlSeconds: 30, sysfsTimeoutFile: null }).activate().ok, false);
    const off = new Watchdog({ mode: 'off', device: d.device, safetyMarginSeconds: 5, ttlSeconds: 30, sysfsTimeoutFile: d.sysfs });
    assert.equal(off.activate().ok, true);
    off.keepalive();
    assert.equal(off.active, false);
  } finally { d.cleanup(); }
});

test('safety_margin -1 means ttl / 2', () => {
  assert.equal(requiredTimeoutSeconds({ mode: 'required', device: '/dev/watchdog', safetyMarginSeconds: -1, ttlSeconds: 30 }), 15);
  assert.equal(requiredTimeoutSeconds({ mode: 'required', device: '/dev/watchdog', safetyMarginSeconds: 5, ttlSeconds: 30 }), 25);
});
