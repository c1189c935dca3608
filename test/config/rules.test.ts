import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, validateConfig, type Problem } from '../../src/config/index.js';
import { cleanupTemp, minimalConfig, tempDir, writeConfig } from './helpers.js';

after(cleanupTemp);

const noBinaries = { checkBinaries: false } as const;

/** minimalConfig() with `edit` applied, validated without the bin_dir check. */
function check(edit: (c: Record<string, any>) => void) {
  const c = minimalConfig() as Record<string, any>;
  edit(c);
  return validateConfig(c, noBinaries);
}

function at(problems: Problem[], path: string): Problem {
  const found = problems.find((p) => p.path === path);
  assert.ok(found, `expected a problem at ${path}, got ${JSON.stringify(problems)}`);
  return found;
}

describe('schema errors name the key, the value and what was expected', () => {
  test('ttl "abc" in bootstrap.dcs', () => {
    const r = check((c) => { c.bootstrap.dcs.ttl = 'abc'; });
    assert.equal(r.config, null);
    const p = at(r.errors, 'bootstrap.dcs.ttl');
    assert.equal(p.value, 'abc');
    assert.equal(p.message, 'expected an integer number of seconds, got "abc"');
  });

  test('a ttl below the minimum names the minimum', () => {
    const r = check((c) => { c.bootstrap.dcs = { ttl: 3, loop_wait: 1, retry_timeout: 1 }; });
    assert.match(at(r.errors, 'bootstrap.dcs.ttl').message, />= 5, got 3/);
  });

  test('a quoted number is accepted as Patroni (YAML 1.1) users expect', () => {
    const r = check((c) => { c.bootstrap.dcs.ttl = '40'; c.tags = { nofailover: 'yes' }; });
    assert.deepEqual(r.errors, []);
    assert.equal(r.config?.bootstrap?.dcs.ttl, 40);
    assert.equal(r.config?.tags.nofailover, true);
  });

  test('required keys are reported as missing', () => {
    const r = check((c) => {
      delete c.name;
      delete c.postgresql.data_dir;
      delete c.postgresql.authentication.replication;
      delete c.restapi.listen;
    });
    for (const path of ['name', 'postgresql.data_dir', 'postgresql.authentication.replication', 'restapi.listen']) {
      assert.match(at(r.errors, path).message, /^required (key|section) is missing/);
    }
  });

  test('a bad password type never shows the password', () => {
    const r = check((c) => { c.postgresql.authentication.superuser.password = ['super-secret-pw']; });
    const p = at(r.errors, 'postgresql.authentication.superuser.password');
    assert.equal(p.value, undefined);
    assert.doesNotMatch(JSON.stringify(r), /super-secret-pw/);
  });
});

describe('timing rule: loop_wait + 2 * retry_timeout <= ttl', () => {
  test('loop_wait 10, retry_timeout 10, ttl 20 is an error naming all three values', () => {
    const r = check((c) => { c.bootstrap.dcs = { ttl: 20, loop_wait: 10, retry_timeout: 10 }; });
    const p = at(r.errors, 'bootstrap.dcs.ttl');
    assert.match(p.message, /loop_wait \(10\) \+ 2 \* retry_timeout \(10\) = 30 exceeds ttl \(20\)/);
    assert.deepEqual(p.value, { ttl: 20, loop_wait: 10, retry_timeout: 10 });
  });

  test('the boundary ttl = loop_wait + 2 * retry_timeout is allowed, and test-profile timings pass', () => {
    assert.deepEqual(check((c) => { c.bootstrap.dcs = { ttl: 30, loop_wait: 10, retry_timeout: 10 }; }).errors, []);
    assert.deepEqual(check((c) => { c.bootstrap.dcs = { ttl: 8, loop_wait: 2, retry_timeout: 3 }; }).errors, []);
    assert.deepEqual(check((c) => { c.bootstrap.dcs = { ttl: 5, loop_wait: 1, retry_timeout: 1 }; }).errors, []);
  });

  test('defaults fill in missing keys: retry_timeout 10 (default) with ttl 24 breaks the rule', () => {
    const r = check((c) => { c.bootstrap.dcs = { ttl: 24, loop_wait: 5 }; });
    assert.match(at(r.errors, 'bootstrap.dcs.ttl').message, /retry_timeout \(10\)/);
  });

  test('top-level timing keys are checked too', () => {
    const r = check((c) => { c.ttl = 10; c.loop_wait = 5; c.retry_timeout = 5; });
    assert.match(at(r.errors, 'ttl').message, /= 15 exceeds ttl \(10\)/);
  });
});

describe('DCS sections', () => {
  test('two DCS sections are an error naming both', () => {
    const r = check((c) => { c.consul = { host: '127.0.0.1:8500' }; });
    const p = at(r.errors, 'consul');
    assert.match(p.message, /exactly one DCS section/);
    assert.match(p.message, /etcd3, consul/);
  });

  test('no DCS section is an error listing the choices', () => {
    const r = check((c) => { delete c.etcd3; });
    assert.match(at(r.errors, '').message, /no DCS configured.*etcd, etcd3, consul, raft/);
  });

  test('an unsupported DCS kind is named', () => {
    const r = check((c) => { delete c.etcd3; c.zookeeper = { hosts: ['z:2181'] }; });
    assert.match(at(r.errors, 'zookeeper').message, /not supported/);
  });

  test('an etcd section with no address, or a bad one, is an error', () => {
    assert.match(at(check((c) => { c.etcd3 = { protocol: 'http' }; }).errors, 'etcd3').message, /host, hosts, url or srv/);
    assert.match(at(check((c) => { c.etcd3 = { hosts: 'a:1,b:99999' }; }).errors, 'etcd3').message, /99999/);
  });
});

describe('addresses', () => {
  test('bad listen and connect addresses are errors with the value', () => {
    const r = check((c) => {
      c.postgresql.listen = '127.0.0.1,::1';
      c.postgresql.connect_address = '0.0.0.0:5432';
      c.restapi.listen = '127.0.0.1:70000';
    });
    assert.equal(at(r.errors, 'postgresql.listen').value, '127.0.0.1,::1');
    assert.match(at(r.errors, 'postgresql.connect_address').message, /wildcard "0\.0\.0\.0"/);
    assert.match(at(r.errors, 'restapi.listen').message, /got port 70000/);
  });

  test('IPv6 list form and bracket form are accepted', () => {
    const r = check((c) => { c.postgresql.listen = '127.0.0.1,::1:5432'; c.postgresql.connect_address = '[::1]:5432'; });
    assert.deepEqual(r.errors, []);
  });

  test('restapi.connect_address missing: a warning, or an error when listen is a wildcard', () => {
    assert.match(at(check((c) => { delete c.restapi.connect_address; }).warnings, 'restapi.connect_address').message, /not set/);
    const r = check((c) => { c.restapi = { listen: '0.0.0.0:8008' }; });
    assert.match(at(r.errors, 'restapi.connect_address').message, /wildcard/);
  });
});

describe('unknown keys', () => {
  test('loop_wiat gives a did-you-mean warning, and the config still loads', () => {
    const r = check((c) => { c.loop_wiat = 5; c.bootstrap.dcs.retry_timout = 3; });
    assert.deepEqual(r.errors, []);
    assert.equal(at(r.warnings, 'loop_wiat').message, 'unknown key, did you mean loop_wait?');
    assert.equal(at(r.warnings, 'bootstrap.dcs.retry_timout').message, 'unknown key, did you mean retry_timeout?');
  });

  test('free maps, custom tags, method sections and raft keys are not checked', () => {
    const r = check((c) => {
      c.tags = { rack: 'r1', zone: 2 };
      c.postgresql.parameters = { shared_buffers: '1GB', some_extension_guc: 1 };
      c.postgresql.create_replica_methods = ['wal_g', 'basebackup'];
      c.postgresql.wal_g = { command: 'wal-g backup-fetch', no_leader: true };
      c.bootstrap.method = 'restore';
      c.bootstrap.restore = { command: 'restore.sh' };
      c.bootstrap.users = { admin: { password: 'x', options: ['createdb'] } };
    });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.config?.tags, { rack: 'r1', zone: 2 });
    assert.deepEqual(r.config?.postgresql['wal_g'], { command: 'wal-g backup-fetch', no_leader: true });
  });

  test('an unknown key that may be a misspelt secret is reported without its value', () => {
    const r = check((c) => { c.postgresql.authentication.superuser.pasword = 'hunter2-secret'; });
    const p = at(r.warnings, 'postgresql.authentication.superuser.pasword');
    assert.equal(p.message, 'unknown key, did you mean password?');
    assert.doesNotMatch(JSON.stringify(r.warnings), /hunter2/);
  });
});

describe('tags', () => {
  test('nofailover together with a conflicting failover_priority: warning, nofailover wins', () => {
    const r = check((c) => { c.tags = { nofailover: true, failover_priority: 2 }; });
    assert.deepEqual(r.errors, []);
    assert.match(at(r.warnings, 'tags.failover_priority').message, /nofailover wins/);
    assert.deepEqual(check((c) => { c.tags = { nofailover: true, failover_priority: 0 }; }).warnings, []);
  });
});

describe('postgresql.bin_dir', () => {
  test('names the missing programs; absent bin_dir is fine', () => {
    const dir = tempDir();
    for (const present of ['pg_ctl', 'initdb', 'postgres']) {
      writeFileSync(join(dir, present), '#!/bin/sh\n');
      chmodSync(join(dir, present), 0o755);
    }
    writeFileSync(join(dir, 'pg_rewind'), 'not executable');
    const c = minimalConfig() as Record<string, any>;
    c.postgresql.bin_dir = dir;
    const p = at(validateConfig(c).errors, 'postgresql.bin_dir');
    assert.match(p.message, /missing or not executable .*: pg_basebackup, pg_rewind, pg_controldata$/);
    assert.deepEqual(validateConfig(minimalConfig()).errors, []);
  });

  test('bin_name renames are looked up, and a missing directory is reported', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'bin'));
    const c = minimalConfig() as Record<string, any>;
    c.postgresql.bin_dir = join(dir, 'bin');
    c.postgresql.bin_name = { pg_ctl: 'qhb_ctl' };
    assert.match(at(validateConfig(c).errors, 'postgresql.bin_dir').message, /pg_ctl \(qhb_ctl\), initdb/);
    c.postgresql.bin_dir = join(dir, 'nope');
    assert.match(at(validateConfig(c).errors, 'postgresql.bin_dir').message, /expected an existing directory/);
  });
});

describe('a whole file', () => {
  test('several problems in one file are all reported at once', () => {
    const file = writeConfig([
      'scope: demo',
      'name: node1',
      'loop_wiat: 3',
      'restapi: {listen: "127.0.0.1:8008", connect_address: "127.0.0.1:8008"}',
      'etcd: {hosts: "127.0.0.1:2379"}',
      'consul: {host: "127.0.0.1:8500"}',
      'bootstrap: {dcs: {ttl: abc}}',
      'postgresql:',
      '  listen: 127.0.0.1:99999',
      '  connect_address: 127.0.0.1:5432',
      '  data_dir: /tmp/x',
      '  authentication: {superuser: {username: postgres}}',
      'watchdog: {mode: sometimes}',
    ].join('\n'));
    const r = loadConfig(file, {}, noBinaries);
    assert.equal(r.config, null);
    const paths = r.errors.map((p) => p.path).sort();
    assert.deepEqual(paths, ['bootstrap.dcs.ttl', 'consul', 'postgresql.authentication.replication', 'postgresql.listen', 'watchdog.mode']);
    assert.deepEqual(r.warnings.map((p) => p.path), ['loop_wiat']);
  });

  test('a YAML syntax error is reported with its line and column, without quoting the source', () => {
    const file = writeConfig('scope: demo\nname: n1\npostgresql:\n  password: "topsecret\n  data_dir: x\n');
    const r = loadConfig(file, {});
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]?.message ?? '', /YAML syntax error in .* at line \d+, column \d+/);
    assert.doesNotMatch(r.errors[0]?.message ?? '', /topsecret/);
  });

  test('defaults are applied', () => {
    const r = check((c) => { c.bootstrap = { dcs: {} }; });
    const c = r.config;
    assert.ok(c);
    assert.equal(c.namespace, '/service/');
    assert.deepEqual([c.bootstrap?.dcs.ttl, c.bootstrap?.dcs.loop_wait, c.bootstrap?.dcs.retry_timeout], [30, 10, 10]);
    assert.equal(c.bootstrap?.dcs.maximum_lag_on_failover, 1048576);
    assert.equal(c.bootstrap?.dcs.postgresql.use_slots, true);
    assert.deepEqual(c.postgresql.create_replica_methods, ['basebackup']);
    assert.equal(c.postgresql.pg_ctl_timeout, 60);
    assert.deepEqual(c.watchdog, { mode: 'automatic', device: '/dev/watchdog', safety_margin: 5 });
    assert.equal(c.log.level, 'INFO');
    assert.equal(check((x) => { x.namespace = 'prod'; }).config?.namespace, '/prod/');
  });
});

describe('secrets stay out of problems', () => {
  test('a credentials section of the wrong shape is reported without its content', () => {
    const r = check((c) => {
      c.restapi.authentication = ['admin', { password: 'api-secret-pw' }];
      c.postgresql.authentication.rewind = 'rewinder:rewind-secret-pw';
    });
    assert.ok(at(r.errors, 'restapi.authentication'));
    assert.ok(at(r.errors, 'postgresql.authentication.rewind'));
    assert.doesNotMatch(JSON.stringify(r), /secret-pw/);
  });

  test('legacy master_start_timeout in bootstrap.dcs is honoured without a warning', () => {
    const r = check((c) => { c.bootstrap.dcs.master_start_timeout = 0; });
    assert.deepEqual(r.warnings, []);
    assert.equal(r.config?.bootstrap?.dcs.primary_start_timeout, 0);
  });
});
