/** The shared DCS contract suite against a real etcd 3.4 started on loopback by the harness. */
import { Etcd3Dcs } from '../../src/dcs/etcd3/adapter.js';
import type { Dcs } from '../../src/dcs/port.js';
import { EtcdServer } from '../support/etcd.js';
import { FaultProxy } from '../support/proxy.js';
import { dcsContract, type ContractHarness } from './contract.js';

dcsContract('etcd3 (real etcd)', async (): Promise<ContractHarness> => {
  const etcd = await EtcdServer.start();
  const links = new Map<Dcs, FaultProxy>();
  return {
    ttlSeconds: 4,
    retryTimeoutMs: 2000,
    async open(o) {
      const proxy = await new FaultProxy('127.0.0.1', etcd.clientPort).start();
      const dcs = new Etcd3Dcs({
        namespace: '/service/', scope: o.scope, member: o.member,
        ttlSeconds: o.ttlSeconds ?? 4, retryTimeoutMs: o.retryTimeoutMs ?? 2000,
        hosts: [proxy.endpoint],
      });
      links.set(dcs, proxy);
      return dcs;
    },
    silence(d) { links.get(d)?.blackhole(); },
    heal(d) { links.get(d)?.heal(); },
    stopServer: () => etcd.stop(),
    startServer: () => etcd.restart(),
    async teardown() {
      for (const p of links.values()) await p.close();
      await etcd.destroy();
    },
  };
});
