import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dcsKind, etcdHosts, etcdSection, loadConfig, parseListen } from '../../src/config/index.js';
import { CONFIGS_DIR } from './helpers.js';

// The shipped example configs are loaded with the real bin_dir check: /usr/lib/postgresql/15/bin
// is where this machine (and Debian's postgresql-15 package) keeps the programs.
describe('shipped configs', () => {
  for (const file of ['qhb0.yml', 'qhb1.yml', 'etcd-node1.yml', 'etcd-node2.yml', 'etcd-node3.yml']) {
    test(`${file} validates with no errors and no warnings`, () => {
      const result = loadConfig(join(CONFIGS_DIR, file), {});
      assert.deepEqual(result.errors, []);
      assert.deepEqual(result.warnings, []);
      assert.ok(result.config);
    });
  }

  test('qhb0.yml keeps the seed text: comments, commented-out consul lines, IPv6 listen list', () => {
    const text = readFileSync(join(CONFIGS_DIR, 'qhb0.yml'), 'utf8');
    assert.match(text, /^ {2}#consul:\n {2}#host: 127\.0\.0\.2:8500$/m);
    assert.match(text, /^ {2}listen: 127\.0\.0\.1,127\.0\.0\.2,::1:5432$/m);
    assert.match(text, /# Use «hosts» to provide multiply\tworkstations/);
    assert.match(text, /host replication replicator 127\.0\.0\.0\/8 md5/);
    assert.doesNotMatch(text, /X\.X\.X/);
  });

  test('qhb0.yml is read as Patroni reads it, QHB keys included', () => {
    const { config } = loadConfig(join(CONFIGS_DIR, 'qhb0.yml'), {});
    assert.ok(config);
    assert.equal(dcsKind(config), 'etcd3');
    const etcd = etcdSection(config);
    assert.ok(etcd);
    assert.deepEqual(etcdHosts(etcd), ['127.0.0.1:2379', '127.0.0.1:22379', '127.0.0.1:32379']);
    assert.deepEqual(parseListen(config.postgresql.listen), { hosts: ['127.0.0.1', '127.0.0.2', '::1'], port: 5432 });
    assert.equal(config.postgresql.hba_file, 'qhb_hba.conf');
    assert.equal(config.postgresql.config_base_name, 'qhb');
    assert.deepEqual(config.bootstrap?.qhb_hba?.[1], 'host replication replicator 127.0.0.0/8 md5');
    assert.deepEqual(config.bootstrap?.initdb, [{ encoding: 'UTF8' }, 'data-checksums']);
    assert.equal(config.bootstrap?.dcs.postgresql.use_pg_rewind, true);
    assert.equal(config.tags.clonefrom, false);
  });

  test('the etcd-node configs give three distinct nodes, hosts as a string and as a list', () => {
    const configs = [1, 2, 3].map((n) => loadConfig(join(CONFIGS_DIR, `etcd-node${n}.yml`), {}).config);
    const names = new Set(configs.map((c) => c?.name));
    const ports = new Set(configs.map((c) => c && parseListen(c.postgresql.listen).port));
    const apis = new Set(configs.map((c) => c?.restapi.listen));
    assert.equal(names.size, 3);
    assert.equal(ports.size, 3);
    assert.equal(apis.size, 3);
    for (const c of configs) {
      assert.ok(c?.etcd3);
      assert.deepEqual(etcdHosts(c.etcd3), ['127.0.0.1:2379', '127.0.0.1:22379', '127.0.0.1:32379']);
      assert.equal(c.postgresql.data_dir, `/var/lib/orchestrator/${c.name}`);
    }
    const texts = [1, 2].map((n) => readFileSync(join(CONFIGS_DIR, `etcd-node${n}.yml`), 'utf8'));
    assert.match(texts[0] ?? '', /^ {2}hosts: 127\.0\.0\.1:2379,127\.0\.0\.1:22379,127\.0\.0\.1:32379$/m);
    assert.match(texts[1] ?? '', /^ {2}hosts:\n {4}- 127\.0\.0\.1:2379$/m);
  });
});
