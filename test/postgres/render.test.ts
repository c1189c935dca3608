import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { roleOptions, toolArgs } from '../../src/postgres/bootstrap.js';
import { PostgresConfigError } from '../../src/postgres/errors.js';
import {
  configPaths, conninfo, listenAddresses, parseUpstreamMember, quoteConfValue, renderHba, renderManagedConfig,
  renderPgpass, renderStandbyConfig, stripOurHbaBlock,
} from '../../src/postgres/render.js';
import { slotNameFromMember } from '../../src/postgres/slots.js';
import type { PostgresSettings } from '../../src/postgres/types.js';

const base: PostgresSettings = {
  name: 'node-1', scope: 'main', dataDir: '/data/pg', binDir: '/bin', listenHosts: ['10.0.0.5'], port: 5433,
  connectHost: '10.0.0.5', connectPort: 5433, pgpassPath: '/home/pg/.pgpass',
  superuser: { username: 'postgres', password: 'su:pw' }, replication: { username: 'repl', password: 're\\pl' },
  rewind: { username: 'rewinder', password: 'rw' }, parameters: { max_connections: 50, work_mem: '8MB', port: 9999 },
  pgHba: ['host all all 0.0.0.0/0 scram-sha-256'], initdb: [], pgCtlTimeoutSeconds: 60, useSlots: true,
  createReplicaMethods: ['basebackup'], basebackupOptions: [],
};
const settingsOf = (text: string): Map<string, string> =>
  new Map(text.split('\n').filter((l) => /^\w+ = /.test(l)).map((l) => [l.split(' = ')[0] ?? '', l.split(' = ').slice(1).join(' = ')]));

describe('managed postgresql.conf', () => {
  test('default names live in the data directory', () => {
    const p = configPaths(base);
    assert.deepEqual(p, {
      configDir: '/data/pg', base: 'postgresql', managed: '/data/pg/postgresql.conf', baseConf: '/data/pg/postgresql.base.conf',
      standbyConf: '/data/pg/postgresql.standby.conf', hba: '/data/pg/pg_hba.conf', ident: '/data/pg/pg_ident.conf',
    });
  });
  test('QHB names: base name, hba and ident files, relative to configDir or absolute', () => {
    const p = configPaths({ ...base, configDir: '/etc/qhb', configBaseName: 'qhb', hbaFile: 'qhb_hba.conf', identFile: '/etc/id.conf' });
    assert.equal(p.managed, '/etc/qhb/qhb.conf');
    assert.equal(p.baseConf, '/etc/qhb/qhb.base.conf');
    assert.equal(p.hba, '/etc/qhb/qhb_hba.conf');
    assert.equal(p.ident, '/etc/id.conf');
    assert.throws(() => configPaths({ ...base, configBaseName: '../x' }), /config_base_name.*'\.\.\/x'/);
  });
  test('carries the replication settings, ours win over parameters, base file included first', () => {
    const text = renderManagedConfig(base, configPaths(base));
    const lines = text.split('\n');
    assert.match(lines[0] ?? '', /^# Managed by the orchestrator/);
    assert.equal(lines.find((l) => l.startsWith('include ')), "include '/data/pg/postgresql.base.conf'");
    assert.equal(lines.filter((l) => /^\w+ = /.test(l)).length, settingsOf(text).size, 'each key appears once');
    const s = settingsOf(text);
    assert.equal(s.get('port'), '5433', 'parameters.port is ignored');
    assert.equal(s.get('listen_addresses'), "'10.0.0.5,127.0.0.1'");
    assert.equal(s.get('cluster_name'), "'main'");
    assert.equal(s.get('hot_standby'), 'on');
    assert.equal(s.get('wal_log_hints'), 'on');
    assert.equal(s.get('wal_level'), "'replica'");
    assert.equal(s.get('max_wal_senders'), '10');
    assert.equal(s.get('max_replication_slots'), '10');
    assert.equal(s.get('hba_file'), "'/data/pg/pg_hba.conf'");
    assert.equal(s.get('max_connections'), '50');
    assert.equal(s.get('work_mem'), "'8MB'");
    assert.match(text, /# ignored from parameters.*port/);
    assert.equal(lines.filter((l) => l !== '').at(-1), "include_if_exists '/data/pg/postgresql.standby.conf'");
  });
  test('parameters that break replication or rewind are rejected, naming the key', () => {
    const bad = (parameters: PostgresSettings['parameters']): void => { renderManagedConfig({ ...base, parameters }, configPaths(base)); };
    assert.throws(() => bad({ wal_level: 'minimal' }), (e: Error) => e instanceof PostgresConfigError && /parameters\.wal_level.*'minimal'/.test(e.message));
    assert.throws(() => bad({ wal_log_hints: false }), /parameters\.wal_log_hints/);
    assert.throws(() => bad({ hot_standby: 'off' }), /parameters\.hot_standby/);
    assert.throws(() => bad({ 'bad key': 1 }), /'bad key'/);
    assert.doesNotThrow(() => bad({ wal_level: 'logical', max_wal_senders: 20 }));
  });
  test('string values are quoted for the config parser', () => {
    assert.equal(quoteConfValue("it's a \\ path"), "'it''s a \\\\ path'");
  });
  test('loopback is added to listen_addresses only when not covered', () => {
    assert.equal(listenAddresses(['*']), '*');
    assert.equal(listenAddresses(['localhost', '10.0.0.1']), 'localhost,10.0.0.1');
    assert.equal(listenAddresses([]), '127.0.0.1');
  });
});

describe('standby settings', () => {
  test('primary_conninfo uses the replication user, the passfile and our member name', () => {
    const text = renderStandbyConfig(base, { host: '10.0.0.6', port: 5432, member: 'node-2' }, 'node_1');
    assert.match(text, /^primary_conninfo = 'user=repl passfile=\/home\/pg\/\.pgpass host=10\.0\.0\.6 port=5432 sslmode=prefer application_name=node-1'$/m);
    assert.match(text, /^primary_slot_name = 'node_1'$/m);
    assert.match(text, /^recovery_target_timeline = 'latest'$/m);
    assert.ok(!text.includes('re\\pl'), 'no password in the file');
    assert.equal(parseUpstreamMember(text), 'node-2');
  });
  test('no slot without useSlots; no upstream means no conninfo and nobody followed', () => {
    assert.ok(!renderStandbyConfig({ ...base, useSlots: false }, { host: 'h', port: 1 }, 'x').includes('primary_slot_name'));
    const none = renderStandbyConfig(base, null, null);
    assert.ok(!none.includes('primary_conninfo'));
    assert.equal(parseUpstreamMember(none), null);
  });
  test('conninfo values with spaces or quotes are quoted', () => {
    assert.equal(conninfo({ host: 'a b', user: "o'k", port: 5, skip: null }), "host='a b' user='o\\'k' port=5");
  });
});

describe('pg_hba and pgpass', () => {
  test("the agent's superuser access comes first; rewriting does not duplicate it", () => {
    const text = renderHba(base, base.pgHba ?? []);
    const lines = text.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^# BEGIN orchestrator/);
    assert.ok(lines.includes('host all "postgres" 127.0.0.1/32 scram-sha-256'));
    assert.ok(lines.includes('host all "postgres" ::1/128 scram-sha-256'));
    assert.equal(lines.at(-1), 'host all all 0.0.0.0/0 scram-sha-256');
    const again = renderHba(base, stripOurHbaBlock(text));
    assert.equal(again, text);
    assert.match(renderHba({ ...base, parameters: { password_encryption: 'md5' } }, []), /127\.0\.0\.1\/32 md5/);
  });
  test('pgpass has one line per role with : and \\ escaped', () => {
    assert.equal(renderPgpass(base), '*:*:*:repl:re\\\\pl\n*:*:*:rewinder:rw\n*:*:*:postgres:su\\:pw\n');
    assert.equal(renderPgpass({ ...base, rewind: null, replication: base.superuser }), '*:*:*:postgres:su\\:pw\n');
  });
});

describe('options and names', () => {
  test('initdb options: flags and --key=value; reserved and malformed ones are refused', () => {
    assert.deepEqual(toolArgs(['data-checksums', { encoding: 'UTF8', locale: 'C' }], 'bootstrap.initdb', new Set(['pgdata'])),
      ['--data-checksums', '--encoding=UTF8', '--locale=C']);
    assert.throws(() => toolArgs([{ pgdata: '/x' }], 'bootstrap.initdb', new Set(['pgdata'])), /bootstrap\.initdb.*'pgdata'/);
    assert.throws(() => toolArgs(['k; rm -rf /'], 'bootstrap.initdb', new Set()), /bootstrap\.initdb/);
  });
  test('bootstrap user options are checked before they reach CREATE ROLE', () => {
    assert.equal(roleOptions('app', ['createdb', 'NOCREATEROLE', 'connection limit 5']), 'createdb NOCREATEROLE connection limit 5');
    assert.throws(() => roleOptions('app', ['superuser; DROP TABLE x']), /bootstrap\.users\.app\.options/);
  });
  test("slot names follow Patroni's derivation from member names", () => {
    assert.equal(slotNameFromMember('Node-1.dc'), 'node_1_dc');
    assert.equal(slotNameFromMember('a b'), 'au0032b');
    assert.equal(slotNameFromMember('x'.repeat(80)).length, 63);
  });
});
