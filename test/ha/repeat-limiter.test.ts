import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from 'pino';
import { RepeatLimiter } from '../../src/util/repeat-limiter.js';

function recorder() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => { lines.push({ level, obj, msg }); };
  return { lines, log: { warn: at('warn'), info: at('info') } as unknown as Logger };
}

test('a failure repeated 1,000 times over 10 minutes logs the first, one summary a minute, and the recovery', () => {
  let now = 0;
  const { lines, log } = recorder();
  const l = new RepeatLimiter(log, 60_000, () => now);
  for (let i = 0; i < 1000; i++) { l.failure('DCS read', `timeout ${i}`); now += 600; }
  l.success('DCS read');
  assert.equal(lines[0]!.msg, 'DCS read failed');
  const summaries = lines.filter((x) => x.msg === 'DCS read still failing');
  assert.ok(summaries.length >= 9 && summaries.length <= 10, `summaries: ${summaries.length}`);
  assert.equal(summaries.at(-1)!.obj.lastError !== undefined, true);
  assert.equal(lines.at(-1)!.msg, 'DCS read works again');
  assert.equal(lines.at(-1)!.obj.failures, 1000);
  assert.ok(lines.length <= 12);
});

test('independent keys are limited independently, and a success without failure logs nothing', () => {
  const { lines, log } = recorder();
  const l = new RepeatLimiter(log, 60_000, () => 0);
  l.success('a');
  l.failure('a', 'x'); l.failure('b', 'y'); l.failure('a', 'x');
  assert.deepEqual(lines.map((x) => x.msg), ['a failed', 'b failed']);
});
