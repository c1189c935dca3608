import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import pino from 'pino';
import type { Dcs } from '../../src/dcs/port.js';
import { EMPTY_CLUSTER, type ClusterView } from '../../src/dcs/types.js';
import { findNameClash } from '../../src/ha/unique-name.js';

const log = pino({ level: 'silent' });

function dcsWith(apiUrl: string | null, fail = false): Dcs {
  const members = new Map();
  if (apiUrl) members.set('node1', { name: 'node1', version: '1', data: { api_url: apiUrl, conn_url: 'postgres://127.0.0.1:5432/postgres' } });
  const view: ClusterView = { ...EMPTY_CLUSTER, members };
  return { getCluster: async () => { if (fail) throw new Error('DCS down'); return view; } } as unknown as Dcs;
}

describe('unique name check at startup', () => {
  let server: Server;
  let port = 0;
  before(async () => {
    server = createServer((_q, r) => { r.writeHead(200); r.end('{}'); });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((res) => server.close(() => res())));

  test('another live agent under our name at another address is a clash', async () => {
    const other = `http://127.0.0.1:${port}/patroni`;
    assert.deepEqual(await findNameClash(dcsWith(other), 'node1', 'http://127.0.0.1:1/patroni', log), { apiUrl: other });
  });
  test('our own record (same api_url, e.g. after a restart) is not a clash', async () => {
    const mine = `http://127.0.0.1:${port}/patroni`;
    assert.equal(await findNameClash(dcsWith(mine), 'node1', `${mine}/`, log), null);
  });
  test('a record whose API does not answer is stale, not a clash; no record or an unreadable DCS is fine', async () => {
    const closed = createServer();
    await new Promise<void>((res) => closed.listen(0, '127.0.0.1', () => res()));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise<void>((res) => closed.close(() => res()));
    assert.equal(await findNameClash(dcsWith(`http://127.0.0.1:${deadPort}/patroni`), 'node1', 'http://127.0.0.1:1/patroni', log), null);
    assert.equal(await findNameClash(dcsWith(null), 'node1', 'http://127.0.0.1:1/patroni', log), null);
    assert.equal(await findNameClash(dcsWith('http://x/patroni', true), 'node1', 'http://127.0.0.1:1/patroni', log), null);
  });
});
