import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { runValidateConfig } from '../../src/cli/validate.js';
import { reloadConfig, loadConfig } from '../../src/config/index.js';
import { CONFIGS_DIR, cleanupTemp, minimalConfig, tempDir, writeConfig } from './helpers.js';

after(cleanupTemp);

function run(file: string, env: Record<string, string> = {}): { code: number; lines: string[] } {
  const lines: string[] = [];
  const code = runValidateConfig(file, (l) => lines.push(l), env, { checkBinaries: false });
  return { code, lines };
}

describe('runValidateConfig', () => {
  test('a valid file: exit 0 and one line saying so', () => {
    const file = join(CONFIGS_DIR, 'qhb0.yml');
    assert.deepEqual(run(file), { code: 0, lines: [`configuration file ${file} is valid`] });
  });

  test('warnings are printed but do not fail', () => {
    const c = minimalConfig();
    c['loop_wiat'] = 2;
    const file = writeConfig(c);
    assert.deepEqual(run(file), {
      code: 0,
      lines: ['WARNING loop_wiat: unknown key, did you mean loop_wait?', `configuration file ${file} is valid`],
    });
  });

  test('every error and warning at once, then the count; exit 1; no password in the output', () => {
    const c = minimalConfig() as Record<string, any>;
    c.bootstrap.dcs = { ttl: 'abc', loop_wait: 10, retry_timeout: 10 };
    c.consul = { host: '127.0.0.1:8500' };
    c.loop_wiat = 1;
    c.postgresql.authentication.superuser.password = { nested: 'super-secret-pw' };
    const file = writeConfig(c);
    const { code, lines } = run(file);
    assert.equal(code, 1);
    assert.deepEqual(lines.filter((l) => l.startsWith('ERROR')).length, 3);
    assert.ok(lines.includes('ERROR bootstrap.dcs.ttl: expected an integer number of seconds, got "abc"'));
    assert.ok(lines.some((l) => l.startsWith('ERROR consul: expected exactly one DCS section')));
    assert.ok(lines.includes('WARNING loop_wiat: unknown key, did you mean loop_wait?'));
    assert.equal(lines.at(-1), `3 error(s) in ${file}`);
    assert.doesNotMatch(lines.join('\n'), /super-secret-pw/);
  });

  test('a missing file: exit 1 with a clear message', () => {
    const file = join(tempDir(), 'missing.yml');
    assert.deepEqual(run(file), {
      code: 1,
      lines: [`ERROR: cannot read configuration file ${file}: no such file or directory`, `1 error(s) in ${file}`],
    });
  });

  test('an empty file: exit 1', () => {
    const file = writeConfig('# nothing here\n');
    const { code, lines } = run(file);
    assert.equal(code, 1);
    assert.match(lines.join('\n'), /ERROR scope: required key is missing/);
  });

  test('environment overrides are applied before checking', () => {
    const c = minimalConfig();
    delete c['name'];
    const file = writeConfig(c);
    assert.equal(run(file).code, 1);
    assert.equal(run(file, { PATRONI_NAME: 'from-env' }).code, 0);
  });
});

describe('reloadConfig (SIGHUP)', () => {
  test('a good edit returns the new config and the changed sections', () => {
    const file = writeConfig(minimalConfig());
    const current = loadConfig(file, {}).config;
    assert.ok(current);
    const edited = minimalConfig() as Record<string, any>;
    edited.tags = { nofailover: true };
    edited.postgresql.parameters = { work_mem: '8MB' };
    writeFileSync(file, yaml.dump(edited));
    const r = reloadConfig(file, current, {});
    assert.equal(r.ok, true);
    assert.ok(r.ok);
    assert.deepEqual(r.changed, ['postgresql', 'tags']);
    assert.equal(r.config.tags.nofailover, true);
  });

  test('a broken edit keeps the current config and reports the errors', () => {
    const file = writeConfig(minimalConfig());
    const current = loadConfig(file, {}).config;
    assert.ok(current);
    writeFileSync(file, 'scope: demo\nname: [broken\n');
    const r = reloadConfig(file, current, {});
    assert.equal(r.ok, false);
    assert.equal(r.config, current);
    assert.ok(!r.ok && r.errors.length === 1 && /YAML syntax error/.test(r.errors[0]?.message ?? ''));
  });

  test('an unchanged file reports no changed sections', () => {
    const file = writeConfig(minimalConfig());
    const current = loadConfig(file, {}).config;
    assert.ok(current);
    const r = reloadConfig(file, current, {});
    assert.ok(r.ok);
    assert.deepEqual(r.changed, []);
  });
});
