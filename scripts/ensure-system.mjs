#!/usr/bin/env node
// Makes sure the system packages the tests and the demo need are present: PostgreSQL 15 binaries
// and etcd (Debian: postgresql-15, etcd-server, etcd-client). As root it installs what is missing
// with apt-get; otherwise it names what to install and fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const need = [];
if (!existsSync('/usr/lib/postgresql/15/bin/postgres')) need.push('postgresql-15');
if (!has('etcd')) need.push('etcd-server');
if (!has('etcdctl')) need.push('etcd-client');
if (need.length > 0) {
  if (process.getuid?.() !== 0) {
    console.error(`missing system packages: ${need.join(', ')}; install them (sudo apt-get install ${need.join(' ')}) and run again`);
    process.exit(1);
  }
  console.log(`installing ${need.join(', ')} with apt-get ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...need], { stdio: 'inherit', env });
}
if (process.getuid?.() === 0 && spawnSync('getent', ['passwd', 'postgres'], { stdio: 'ignore' }).status !== 0) {
  console.error("running as root but there is no 'postgres' OS user to run PostgreSQL as (the postgresql package creates it)");
  process.exit(1);
}
