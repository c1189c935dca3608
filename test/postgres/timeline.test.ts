import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatLsn, parseLsn, timelineHex } from '../../src/postgres/lsn.js';
import { parseHistory, rewindVerdict, type LocalPosition } from '../../src/postgres/timeline.js';

describe('LSN arithmetic', () => {
  test("'X/Y' is X*2^32+Y bytes and formats back", () => {
    assert.equal(parseLsn('0/0'), 0);
    assert.equal(parseLsn('0/3000148'), 0x3000148);
    assert.equal(parseLsn('1/0'), 2 ** 32);
    assert.equal(parseLsn('16/B374D848'), 0x16 * 2 ** 32 + 0xb374d848);
    for (const s of ['0/0', '0/3000148', '16/B374D848', 'FFFF/FFFFFFFF']) assert.equal(formatLsn(parseLsn(s)), s);
  });
  test('garbage is rejected with the offending text', () => {
    assert.throws(() => parseLsn('3000148'), /not an LSN.*'3000148'/);
    assert.throws(() => parseLsn('0/G'), /not an LSN/);
  });
  test('timeline ids are 8 upper-case hex digits in WAL names', () => {
    assert.equal(timelineHex(1), '00000001');
    assert.equal(timelineHex(26), '0000001A');
  });
});

describe('timeline history files', () => {
  const HISTORY_3 = [
    '1\t0/3002638\tno recovery target specified',
    '',
    '2\t0/5000000\tno recovery target specified',
    '',
  ].join('\n');

  test('parses every ancestor line, skipping blanks and comments', () => {
    assert.deepEqual(parseHistory(`# comment\n${HISTORY_3}`), [
      { parentTimeline: 1, switchpoint: 0x3002638, reason: 'no recovery target specified' },
      { parentTimeline: 2, switchpoint: 0x5000000, reason: 'no recovery target specified' },
    ]);
    assert.deepEqual(parseHistory(''), []);
  });
  test('a malformed line throws, naming the line', () => {
    assert.throws(() => parseHistory('1 nonsense'), /malformed.*'1 nonsense'/);
  });

  const history = parseHistory(HISTORY_3);
  const at = (timeline: number, lsn: string, kind: LocalPosition['kind']): LocalPosition => ({ timeline, lsn: parseLsn(lsn), kind });
  const cases: Array<[string, LocalPosition, number, boolean]> = [
    ['same timeline as the leader', at(3, '0/9000000', 'end'), 3, false],
    ['our timeline is ahead of the leader', at(4, '0/1000000', 'end'), 3, true],
    ['replica replayed exactly up to the switch point', at(1, '0/3002638', 'end'), 3, false],
    ['replica replayed past the switch point', at(1, '0/3002639', 'end'), 3, true],
    ['replica behind the switch point', at(1, '0/2000000', 'end'), 3, false],
    ['grand-parent timeline, behind its switch point', at(2, '0/4FFFFFF', 'end'), 3, false],
    ['grand-parent timeline, past its switch point', at(2, '0/5000100', 'end'), 3, true],
    ['stopped primary whose shutdown checkpoint starts before the switch point', at(1, '0/30025C0', 'record-start'), 3, false],
    ['stopped primary whose shutdown checkpoint starts at the switch point (not received)', at(1, '0/3002638', 'record-start'), 3, true],
    ['our timeline missing from the history', at(5, '0/1', 'end'), 6, true],
  ];
  for (const [name, local, leaderTli, want] of cases) {
    test(name, () => {
      const v = rewindVerdict(local, leaderTli, history);
      assert.equal(v.needed, want, v.reason);
      assert.ok(v.reason.length > 0);
    });
  }
  test('same timeline ID on another branch (two concurrent promotions from one parent): rewind', () => {
    const theirs = parseHistory('1\t0/3000000\tno recovery target specified\n');
    const mine = parseHistory('1\t0/3002638\tno recovery target specified\n');
    const v = rewindVerdict(at(2, '0/3100000', 'end'), 2, theirs, mine);
    assert.equal(v.needed, true);
    assert.match(v.reason, /same timeline ID 2 .*another branch.*0\/3002638.*0\/3000000/);
    assert.equal(rewindVerdict(at(2, '0/3100000', 'end'), 2, theirs, theirs).needed, false, 'the same branch: no rewind');
    assert.equal(rewindVerdict(at(2, '0/3100000', 'end'), 2, theirs, null).needed, false, 'our history unknown: the timeline IDs decide');
  });
  test('the reason names positions in X/Y form', () => {
    const v = rewindVerdict(at(1, '0/3002639', 'end'), 3, history);
    assert.match(v.reason, /0\/3002639.*0\/3002638/);
  });
});
