#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with node's test runner.
//   --unit      only the fast suites that need no server (config, ha, raft)
//   FILTER=re   only files whose path matches the regular expression
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const root = 'dist/test';
const UNIT = ['config', 'ha', 'raft', 'unit'];
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
})(root);

let selected = files;
if (process.argv.includes('--unit')) selected = selected.filter((f) => UNIT.includes(f.split('/')[2]));
if (process.env.FILTER) selected = selected.filter((f) => new RegExp(process.env.FILTER).test(f));
if (selected.length === 0) { console.error('no test files selected'); process.exit(1); }

// --test-force-exit: a test file whose tests have all finished must not keep CI waiting because a
// client library left a handle open (seen once with the etcd contract file). --test-timeout bounds
// any single test at 10 minutes.
const args = ['--test', '--test-reporter=spec', '--test-force-exit', '--test-timeout=600000', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, ...selected];
const child = spawn(process.execPath, args, { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
