/**
 * decide() and its rules stay pure (DESIGN.md "the two pure hearts"): no await, no node:*
 * imports, no clock reads, no randomness in src/ha/decide.ts, src/ha/rules/, decision-log.ts and sync.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

// dist/test/ha/purity.test.js -> repository root
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const haDir = path.join(root, 'src/ha');
const files = [
  path.join(haDir, 'decide.ts'), path.join(haDir, 'decision-log.ts'), path.join(haDir, 'sync.ts'),
  ...readdirSync(path.join(haDir, 'rules')).filter((f) => f.endsWith('.ts')).map((f) => path.join(haDir, 'rules', f)),
];
const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bawait\b/, 'await'], [/from 'node:/, 'a node:* import'], [/Date\.now\(|performance\.now\(|new Date\(\)/, 'a clock read'],
  [/Math\.random\(/, 'randomness'], [/\bprocess\./, 'process state'],
];

test('the decision code has no I/O, clock reads or randomness', () => {
  assert.ok(files.length >= 10, `expected the rule files, found ${files.length}`);
  for (const file of files) {
    const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const [pattern, what] of FORBIDDEN) assert.doesNotMatch(code, pattern, `${path.relative(root, file)} contains ${what}`);
  }
});

test('rule files stay small (one situation each)', () => {
  for (const file of files.filter((f) => f.includes(`${path.sep}rules${path.sep}`))) {
    const lines = readFileSync(file, 'utf8').split('\n').length;
    assert.ok(lines <= 120, `${path.relative(root, file)} has ${lines} lines`);
  }
});
