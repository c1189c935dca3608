import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { TransportConfigError, TcpTransport } from '../../../src/raft/transport/index.js';
import { closeAll, everyMessageType, inbox, mesh, node, recordingLog, startTransport, waitFor } from './support.js';

afterEach(closeAll);
after(closeAll);

/** Resolves with the socket error code of a connect attempt, or 'connected'. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('TcpTransport', () => {
  test('two transports exchange messages of every type both ways, a 1 MiB snapshot included', async () => {
    const nodes = await mesh(['a', 'b']);
    const a = node(nodes, 'a');
    const b = node(nodes, 'b');
    const gotA = inbox(a.t);
    const gotB = inbox(b.t);
    const toB = everyMessageType('a', 'b', 1 << 20);
    const toA = everyMessageType('b', 'a');
    for (const m of toB) a.t.send('b', m);
    for (const m of toA) b.t.send('a', m);
    await waitFor('all messages', () => gotA.length === toA.length && gotB.length === toB.length);
    assert.deepStrictEqual(gotB.map((g) => g.msg), toB);
    assert.deepStrictEqual(gotA.map((g) => g.msg), toA);
    assert.ok(gotB.every((g) => g.from === 'a') && gotA.every((g) => g.from === 'b'));
  });

  test('three transports: every node reaches every other with every message type', async () => {
    const ids = ['n1', 'n2', 'n3'];
    const nodes = await mesh(ids);
    const boxes = new Map(ids.map((id) => [id, inbox(node(nodes, id).t)]));
    for (const from of ids) {
      for (const to of ids) if (from !== to) for (const m of everyMessageType(from, to)) node(nodes, from).t.send(to, m);
    }
    const perNode = 2 * everyMessageType('n1', 'n2').length;
    await waitFor('full mesh delivery', () => [...boxes.values()].every((b) => b.length === perNode));
    for (const to of ids) {
      const got = boxes.get(to)!;
      for (const from of ids) {
        if (from === to) continue;
        // Order is kept per sender (one connection each), whatever the interleaving between senders.
        assert.deepStrictEqual(got.filter((g) => g.from === from).map((g) => g.msg), everyMessageType(from, to));
      }
    }
  });

  test('stats report connection, queue, drops and a monotonic last-contact time per peer', async () => {
    const nodes = await mesh(['a', 'b']);
    const a = node(nodes, 'a');
    const b = node(nodes, 'b');
    const got = inbox(a.t);
    b.t.send('a', { from: 'b', to: 'a', term: 1, type: 'timeout-now' });
    await waitFor('message', () => got.length === 1);
    const first = a.t.stats().peers[0]!;
    assert.equal(first.id, 'b');
    assert.equal(first.connected, true);
    assert.equal(first.queueLength, 0);
    assert.equal(first.drops, 0);
    assert.equal(typeof first.lastContactMs, 'number');
    await new Promise((r) => setTimeout(r, 20));
    b.t.send('a', { from: 'b', to: 'a', term: 1, type: 'timeout-now' });
    await waitFor('second message', () => got.length === 2);
    assert.ok(a.t.stats().peers[0]!.lastContactMs! > first.lastContactMs!);
    a.t.send('nobody', { from: 'a', to: 'nobody', term: 1, type: 'timeout-now' });
    assert.equal(a.t.stats().unknownPeerDrops, 1);
    // Misaddressed messages are dropped by the sender, so the connection survives a caller bug.
    a.t.send('b', { from: 'a', to: 'c', term: 1, type: 'timeout-now' });
    a.t.send('b', { from: 'z', to: 'b', term: 1, type: 'timeout-now' });
    assert.equal(a.t.stats().peers[0]!.drops, 2);
    const gotB = inbox(b.t);
    a.t.send('b', { from: 'a', to: 'b', term: 1, type: 'timeout-now' });
    await waitFor('a well-addressed message', () => gotB.length === 1);
    assert.equal(a.t.stats().peers[0]!.connected, true);
    // Only messages handed to a link count as sent (not the unknown-peer or misaddressed ones).
    assert.deepEqual(a.t.stats().traffic, { messagesSent: 1, messagesReceived: 2, requestsSent: 0, requestsServed: 0 });
    assert.deepEqual(b.t.stats().traffic, { messagesSent: 2, messagesReceived: 1, requestsSent: 0, requestsServed: 0 });
  });

  test('the listener binds only the configured host', async () => {
    const { t, addr } = await startTransport('solo');
    assert.equal(addr.host, '127.0.0.1');
    assert.equal(await tryConnect('127.0.0.1', addr.port), 'connected');
    // 127.0.0.2 is loopback too, but not the configured address: nothing listens there.
    assert.equal(await tryConnect('127.0.0.2', addr.port), 'ECONNREFUSED');
    assert.equal(t.stats().listening?.host, '127.0.0.1');
    assert.throws(
      () => new TcpTransport({ self: 'x', listen: { host: '', port: 0 }, peers: new Map(), log: recordingLog() }),
      (e: unknown) => e instanceof TransportConfigError && /listen\.host must be a non-empty host/.test(e.message),
    );
  });

  test('a mismatched cluster token is refused and logged without the token; a matching one works', async () => {
    const b = await startTransport('b', { clusterToken: 'right-secret' });
    const bad = await startTransport('a', { clusterToken: 'wrong-secret', peers: new Map([['b', b.addr]]) });
    const good = await startTransport('c', { clusterToken: 'right-secret', peers: new Map([['b', b.addr]]) });
    const got = inbox(b.t);
    bad.t.send('b', { from: 'a', to: 'b', term: 1, type: 'timeout-now' });
    good.t.send('b', { from: 'c', to: 'b', term: 1, type: 'timeout-now' });
    await waitFor('the good message', () => got.length === 1);
    await waitFor('the refusal', () => b.t.stats().refusedConnections >= 1);
    assert.equal(got[0]!.from, 'c');
    assert.equal(bad.t.stats().peers[0]!.connected, false);
    await waitFor('the refused side logs it', () => bad.log.lines.some((l) => l.level === 'warn' && /cluster token mismatch/.test(JSON.stringify(l.obj))));
    assert.ok(b.log.lines.some((l) => l.level === 'warn' && /refused/.test(l.msg) && (l.obj as { reason?: string }).reason === 'cluster token mismatch'));
    const everything = JSON.stringify([...b.log.lines, ...bad.log.lines, ...good.log.lines]);
    assert.ok(!everything.includes('secret'), 'a token appeared in the logs');
  });

  test('a peer whose address reaches another node is refused by that node', async () => {
    const c = await startTransport('c');
    const a = await startTransport('a', { peers: new Map([['b', c.addr]]) });
    await waitFor('the refusal', () => c.t.stats().refusedConnections >= 1);
    assert.ok(c.log.lines.some((l) => /this node is \\?"c\\?", not \\?"b\\?"/.test(JSON.stringify(l.obj))));
    assert.equal(a.t.stats().peers[0]!.connected, false);
  });

  test('a message larger than the frame limit is dropped by the sender, and the connection stays up', async () => {
    const nodes = await mesh(['a', 'b'], { maxFrameBytes: 4096 });
    const a = node(nodes, 'a');
    const got = inbox(node(nodes, 'b').t);
    const [snapshot] = everyMessageType('a', 'b', 8192).filter((m) => m.type === 'snapshot');
    a.t.send('b', snapshot!);
    assert.equal(a.t.stats().peers[0]!.drops, 1);
    assert.ok(a.log.lines.some((l) => l.level === 'error' && /too large/.test(l.msg)));
    a.t.send('b', { from: 'a', to: 'b', term: 1, type: 'timeout-now' });
    await waitFor('the next message', () => got.length === 1);
    assert.equal(got[0]!.msg.type, 'timeout-now');
  });

  test('setPeers adds a new member and removes an old one', async () => {
    const nodes = await mesh(['a', 'b']);
    const a = node(nodes, 'a');
    const c = await startTransport('c');
    const gotC = inbox(c.t);
    c.t.setPeers(new Map([['a', a.addr]]));
    a.t.setPeers(new Map([['b', node(nodes, 'b').addr], ['c', c.addr]]));
    a.t.send('c', { from: 'a', to: 'c', term: 2, type: 'heartbeat', commit: 1, ctx: null });
    await waitFor('message to the new member', () => gotC.length === 1);
    a.t.setPeers(new Map([['b', node(nodes, 'b').addr]]));
    assert.deepEqual(a.t.stats().peers.map((p) => p.id), ['b']);
    a.t.send('c', { from: 'a', to: 'c', term: 2, type: 'timeout-now' });
    assert.equal(a.t.stats().unknownPeerDrops, 1);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(gotC.length, 1);
  });
});
