import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveConfig, parseDynamicConfig, validateConfig, type Config } from '../../src/config/index.js';
import { minimalConfig } from './helpers.js';

describe('parseDynamicConfig', () => {
  test('an empty object gives every default', () => {
    const { config, errors, warnings } = parseDynamicConfig({});
    assert.deepEqual([errors, warnings], [[], []]);
    assert.deepEqual(config, {
      ttl: 30, loop_wait: 10, retry_timeout: 10, maximum_lag_on_failover: 1048576, maximum_lag_on_syncnode: -1,
      primary_start_timeout: 300, primary_stop_timeout: 0, synchronous_mode: false, synchronous_mode_strict: false,
      synchronous_node_count: 1, failsafe_mode: false, check_timeline: false, max_timelines_history: 0, pause: false,
      postgresql: { use_slots: true, parameters: {} },
    });
  });

  test('garbage values fall back to defaults per key, with warnings; good keys are kept', () => {
    const { config, errors, warnings } = parseDynamicConfig({
      ttl: 'soon', loop_wait: 5, pause: 'maybe', synchronous_node_count: 0,
      postgresql: { use_slots: 'sometimes', parameters: { max_connections: 200 }, pg_hba: 'not a list' },
      slots: 7, lopo_wait: 3,
    });
    assert.deepEqual(errors, []);
    assert.equal(config.ttl, 30);
    assert.equal(config.loop_wait, 5);
    assert.equal(config.pause, false);
    assert.equal(config.synchronous_node_count, 1);
    assert.equal(config.postgresql.use_slots, true);
    assert.equal(config.postgresql.pg_hba, undefined);
    assert.deepEqual(config.postgresql.parameters, { max_connections: 200 });
    assert.equal(config.slots, undefined);
    const byPath = new Map(warnings.map((w) => [w.path, w.message]));
    assert.equal(byPath.get('ttl'), 'expected an integer number of seconds, got "soon"; using the default 30');
    assert.match(byPath.get('pause') ?? '', /expected true or false, got "maybe"; using the default false/);
    assert.match(byPath.get('postgresql.use_slots') ?? '', /using the default true/);
    assert.match(byPath.get('postgresql.pg_hba') ?? '', /; ignored$/);
    assert.match(byPath.get('slots') ?? '', /; ignored$/);
    assert.equal(byPath.get('lopo_wait'), 'unknown key, did you mean loop_wait?');
  });

  test('non-object input (a JSON string, text, a number) never throws', () => {
    assert.equal(parseDynamicConfig('{"ttl": 40, "loop_wait": 5}').config.ttl, 40);
    const text = parseDynamicConfig('not json');
    assert.equal(text.config.ttl, 30);
    assert.equal(text.warnings.length, 1);
    assert.equal(parseDynamicConfig(42).config.loop_wait, 10);
    assert.equal(parseDynamicConfig(null).warnings.length, 0);
  });

  test('legacy master_start_timeout is honoured only when primary_start_timeout is absent', () => {
    assert.equal(parseDynamicConfig({ master_start_timeout: 0 }).config.primary_start_timeout, 0);
    assert.equal(parseDynamicConfig({ master_start_timeout: 0, primary_start_timeout: 60 }).config.primary_start_timeout, 60);
    assert.deepEqual(parseDynamicConfig({ master_start_timeout: 0 }).warnings, []);
  });

  test('a timing rule breach is an error and ttl is raised to the safe value', () => {
    const { config, errors } = parseDynamicConfig({ ttl: 20, loop_wait: 10, retry_timeout: 10 }, 'config');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.path, 'config.ttl');
    assert.match(errors[0]?.message ?? '', /using ttl 30$/);
    assert.equal(config.ttl, 30);
  });
});

function local(edit: (c: Record<string, any>) => void = () => {}): Config {
  const raw = minimalConfig() as Record<string, any>;
  edit(raw);
  const { config, errors } = validateConfig(raw, { checkBinaries: false });
  assert.deepEqual(errors, []);
  assert.ok(config);
  return config;
}

describe('effectiveConfig (config.md 5.1 precedence)', () => {
  test('timing keys come from the dynamic config even when set locally', () => {
    const dyn = parseDynamicConfig({ ttl: 12, loop_wait: 2, retry_timeout: 5, maximum_lag_on_failover: 7 }).config;
    const eff = effectiveConfig(local((c) => { c.ttl = 40; c.loop_wait = 5; c.retry_timeout = 5; }), dyn);
    assert.deepEqual([eff.ttl, eff.loop_wait, eff.retry_timeout, eff.maximum_lag_on_failover], [12, 2, 5, 7]);
  });

  test('without a dynamic config, local top-level timing keys are used over the defaults', () => {
    const eff = effectiveConfig(local((c) => { c.ttl = 40; }), null);
    assert.deepEqual([eff.ttl, eff.loop_wait, eff.retry_timeout], [40, 10, 10]);
    assert.equal(eff.pause, false);
  });

  test('local postgresql wins except use_slots; parameters merge name by name; dynamic-only GUCs stay dynamic', () => {
    const dyn = parseDynamicConfig({
      postgresql: {
        use_slots: false, use_pg_rewind: true, pg_hba: ['host all all 0.0.0.0/0 md5'],
        parameters: { max_connections: 300, work_mem: '4MB', shared_buffers: '128MB' },
      },
    }).config;
    const eff = effectiveConfig(local((c) => {
      c.postgresql.use_slots = true;
      c.postgresql.use_pg_rewind = false;
      c.postgresql.parameters = { shared_buffers: '1GB', max_connections: 50 };
    }), dyn);
    assert.equal(eff.postgresql.use_slots, false, 'use_slots is cluster-wide');
    assert.equal(eff.postgresql.use_pg_rewind, false, 'local wins');
    assert.deepEqual(eff.postgresql.pg_hba, ['host all all 0.0.0.0/0 md5'], 'dynamic fills what local leaves out');
    assert.deepEqual(eff.postgresql.parameters, { max_connections: 300, work_mem: '4MB', shared_buffers: '1GB' });
    assert.equal(eff.postgresql.data_dir, '/tmp/does-not-matter');
    assert.equal(eff.postgresql.remove_data_directory_on_rewind_failure, false);
  });

  test('local sections (watchdog, tags, name) are kept; dynamic globals are added', () => {
    const dyn = parseDynamicConfig({ synchronous_mode: true, standby_cluster: { host: '10.0.0.1', port: 5432 } }).config;
    const eff = effectiveConfig(local((c) => { c.tags = { nosync: true }; c.watchdog = { mode: 'required' }; }), dyn);
    assert.equal(eff.name, 'node1');
    assert.equal(eff.tags.nosync, true);
    assert.equal(eff.watchdog.mode, 'required');
    assert.equal(eff.synchronous_mode, true);
    assert.deepEqual(eff.standby_cluster, { host: '10.0.0.1', port: 5432 });
  });
});
