import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { applyEnv, etcdHosts, loadConfig } from '../../src/config/index.js';
import { cleanupTemp, minimalConfig, writeConfig } from './helpers.js';

after(cleanupTemp);

describe('applyEnv', () => {
  test('PATRONI_NAME, PATRONI_RESTAPI_LISTEN and PATRONI_SUPERUSER_PASSWORD override the file', () => {
    const raw = minimalConfig();
    const out = applyEnv(raw, {
      PATRONI_NAME: 'node9',
      PATRONI_RESTAPI_LISTEN: '127.0.0.1:9008',
      PATRONI_SUPERUSER_PASSWORD: 'from-env',
      PATRONI_RESTAPI_USERNAME: 'admin',
    }) as Record<string, any>;
    assert.equal(out.name, 'node9');
    assert.equal(out.restapi.listen, '127.0.0.1:9008');
    assert.equal(out.restapi.connect_address, '127.0.0.1:8008', 'keys without a variable are kept');
    assert.deepEqual(out.restapi.authentication, { username: 'admin' });
    assert.deepEqual(out.postgresql.authentication.superuser, { username: 'postgres', password: 'from-env' });
    assert.equal((raw as any).name, 'node1', 'the input is not modified');
  });

  test('PATRONI_ETCD3_HOSTS: a comma string or a YAML list', () => {
    const comma = applyEnv({}, { PATRONI_ETCD3_HOSTS: '127.0.0.1:2379, 127.0.0.1:22379' }) as any;
    assert.deepEqual(comma.etcd3.hosts, ['127.0.0.1:2379', '127.0.0.1:22379']);
    const list = applyEnv({}, { PATRONI_ETCD3_HOSTS: "['127.0.0.1:2379','127.0.0.1:32379']" }) as any;
    assert.deepEqual(list.etcd3.hosts, ['127.0.0.1:2379', '127.0.0.1:32379']);
  });

  test('consul, raft, postgresql, ctl and log variables land on their keys', () => {
    const out = applyEnv({ postgresql: null }, {
      PATRONI_CONSUL_CHECKS: 'a,b',
      PATRONI_CONSUL_PORT: '8500',
      PATRONI_RAFT_PARTNER_ADDRS: '127.0.0.1:2222,127.0.0.1:2223',
      PATRONI_POSTGRESQL_DATA_DIR: '/data',
      PATRONI_POSTGRESQL_BIN_PG_CTL: 'qhb_ctl',
      PATRONI_REPLICATION_SSLMODE: 'verify-full',
      PATRONI_CTL_INSECURE: 'true',
      PATRONI_RESTAPI_HTTP_EXTRA_HEADERS: '{X-Frame-Options: DENY}',
      PATRONI_LOGLEVEL: 'debug',
    }) as any;
    assert.deepEqual(out.consul, { checks: ['a', 'b'], port: '8500' });
    assert.deepEqual(out.raft.partner_addrs, ['127.0.0.1:2222', '127.0.0.1:2223']);
    assert.equal(out.postgresql.data_dir, '/data');
    assert.equal(out.postgresql.bin_name.pg_ctl, 'qhb_ctl');
    assert.equal(out.postgresql.authentication.replication.sslmode, 'verify-full');
    assert.equal(out.ctl.insecure, 'true');
    assert.deepEqual(out.restapi.http_extra_headers, { 'X-Frame-Options': 'DENY' });
    assert.equal(out.log.level, 'debug');
  });

  test('the new log variable wins over the legacy one; empty variables are ignored', () => {
    const out = applyEnv({ scope: 'keep' }, { PATRONI_LOGLEVEL: 'DEBUG', PATRONI_LOG_LEVEL: 'ERROR', PATRONI_SCOPE: '' }) as any;
    assert.equal(out.log.level, 'ERROR');
    assert.equal(out.scope, 'keep');
  });

  test('PATRONI_<USER>_PASSWORD fills bootstrap.users, but not for the built-in roles', () => {
    const out = applyEnv({}, { PATRONI_APP_USER_PASSWORD: 'pw', PATRONI_APP_USER_OPTIONS: 'createdb,login', PATRONI_REWIND_PASSWORD: 'r' }) as any;
    assert.deepEqual(out.bootstrap.users, { app_user: { password: 'pw', options: ['createdb', 'login'] } });
    assert.equal(out.postgresql.authentication.rewind.password, 'r');
  });

  test('PATRONI_CONFIGURATION is the whole config when there is no file', () => {
    const out = applyEnv(undefined, { PATRONI_CONFIGURATION: 'scope: s\nname: n\n', PATRONI_NAME: 'ignored' });
    assert.deepEqual(out, { scope: 's', name: 'n' });
  });
});

describe('loadConfig with environment overrides', () => {
  test('overrides are validated and used; a bad override is reported under its key', () => {
    const file = writeConfig(minimalConfig());
    const ok = loadConfig(file, { PATRONI_ETCD3_HOSTS: '127.0.0.1:2379,127.0.0.1:22379', PATRONI_NAME: 'n2' });
    assert.deepEqual(ok.errors, []);
    assert.equal(ok.config?.name, 'n2');
    assert.ok(ok.config?.etcd3);
    assert.deepEqual(etcdHosts(ok.config.etcd3), ['127.0.0.1:2379', '127.0.0.1:22379']);
    const bad = loadConfig(file, { PATRONI_RESTAPI_LISTEN: 'nowhere' });
    assert.equal(bad.errors[0]?.path, 'restapi.listen');
  });

  test('no file: PATRONI_CONFIGURATION, or the variables alone', () => {
    const yamlText = JSON.stringify(minimalConfig());
    assert.equal(loadConfig(null, { PATRONI_CONFIGURATION: yamlText }).config?.scope, 'demo');
    const fromVars = loadConfig(null, {
      PATRONI_SCOPE: 's', PATRONI_NAME: 'n', PATRONI_RESTAPI_LISTEN: '127.0.0.1:8008', PATRONI_RESTAPI_CONNECT_ADDRESS: '127.0.0.1:8008',
      PATRONI_ETCD3_HOST: '127.0.0.1:2379', PATRONI_POSTGRESQL_LISTEN: '127.0.0.1:5432',
      PATRONI_POSTGRESQL_CONNECT_ADDRESS: '127.0.0.1:5432', PATRONI_POSTGRESQL_DATA_DIR: '/d',
      PATRONI_SUPERUSER_USERNAME: 'postgres', PATRONI_REPLICATION_USERNAME: 'rep',
    });
    assert.deepEqual(fromVars.errors, []);
    assert.equal(fromVars.config?.postgresql.authentication.replication.username, 'rep');
    const broken = loadConfig(null, { PATRONI_CONFIGURATION: 'scope: [unclosed' });
    assert.match(broken.errors[0]?.message ?? '', /YAML syntax error in PATRONI_CONFIGURATION at line \d+, column \d+/);
  });
});
