import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Message } from '../../../src/raft/core/types.js';
import { encodeFrame, PROTOCOL_VERSION } from '../../../src/raft/transport/frame.js';
import { closeAll, closeOne, inbox, mesh, node, startTransport, waitFor } from './support.js';

afterEach(closeAll);
after(closeAll);

const beat = (from: string, to: string, commit: number): Message => ({ from, to, term: 1, type: 'heartbeat', commit, ctx: null });

/** Opens a raw socket, writes `chunks`, and resolves once the far end has closed it. */
function rawExchange(port: number, chunks: Uint8Array[]): Promise<{ closed: true; received: Buffer }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const parts: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('the transport did not close the bad connection'));
    }, 2_000);
    s.on('connect', () => {
      for (const c of chunks) s.write(c);
    });
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', () => {}); // a reset after we wrote is also "closed"
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, received: Buffer.concat(parts) });
    });
  });
}

function header(length: number, type: number): Uint8Array {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(length, 0);
  b.writeUInt8(type, 4);
  return b;
}

describe('transport resilience', () => {
  test('reconnects after the remote restarts; messages sent while it is down are dropped within the queue bound', async () => {
    const nodes = await mesh(['a', 'b'], { maxQueueItems: 16 });
    const a = node(nodes, 'a');
    const bAddr = node(nodes, 'b').addr;
    await closeOne(node(nodes, 'b').t);
    await waitFor('a notices b is gone', () => !a.t.stats().peers[0]!.connected);
    for (let i = 0; i < 500; i++) {
      a.t.send('b', beat('a', 'b', i));
      assert.ok(a.t.stats().peers[0]!.queueLength <= 16, 'queue bound exceeded');
    }
    assert.ok(a.t.stats().peers[0]!.drops >= 500 - 16);
    await waitFor('a failed reconnect attempt empties the queue', () => a.t.stats().peers[0]!.failedAttempts >= 1 && a.t.stats().peers[0]!.queueLength === 0);

    const b2 = await startTransport('b', { listen: bAddr, peers: new Map([['a', a.addr]]) });
    const got = inbox(b2.t);
    await waitFor('a reconnects to the restarted b', () => a.t.stats().peers[0]!.connected, 2_000);
    a.t.send('b', beat('a', 'b', 9999));
    await waitFor('the fresh message arrives', () => got.some((g) => g.msg.type === 'heartbeat' && g.msg.commit === 9999));
    assert.ok(got.length <= 17, `${got.length} messages arrived: old ones were buffered beyond the bound`);
    assert.equal(a.t.stats().peers[0]!.failedAttempts, 0);
  });

  test('repeated connection failures are logged at the first and at powers of ten, not per attempt', async () => {
    const gone = await startTransport('gone');
    const addr = gone.addr;
    await closeOne(gone.t);
    const a = await startTransport('a', { peers: new Map([['gone', addr]]), reconnectBaseMs: 1, reconnectMaxMs: 2 });
    await waitFor('a dozen attempts', () => a.t.stats().peers[0]!.failedAttempts >= 12);
    const warns = a.log.lines.filter((l) => l.level === 'warn' && /cannot reach peer/.test(l.msg));
    assert.deepEqual(warns.map((l) => (l.obj as { failedAttempts: number }).failedAttempts), [1, 10]);
  });

  test('reconnect attempts back off exponentially up to the cap', async () => {
    const gone = await startTransport('gone');
    await closeOne(gone.t);
    const a = await startTransport('a', { peers: new Map([['gone', gone.addr]]), reconnectBaseMs: 20, reconnectMaxMs: 100 });
    await new Promise((r) => setTimeout(r, 500));
    // 20, 40, 80, then 100 ms apiece (+-20% jitter): about 4-9 attempts in 500 ms; a fixed
    // 20 ms retry would make ~25, an unthrottled loop thousands.
    const n = a.t.stats().peers[0]!.failedAttempts;
    assert.ok(n >= 3 && n <= 12, `${n} attempts in 500 ms`);
  });

  const badInputs: Array<[string, () => Uint8Array[]]> = [
    ['garbage bytes', () => [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]],
    ['a huge length', () => [header(0xfffffff0, 4)]],
    ['an unknown frame type', () => [header(3, 0xee), Buffer.from('abc')]],
    ['a raft frame before the handshake', () => [encodeFrame({ kind: 'raft', message: beat('a', 'b', 1) })]],
    ['an undecodable raft payload after a valid handshake', () => [
      encodeFrame({ kind: 'hello', version: PROTOCOL_VERSION, from: 'x', to: 'b', token: null }),
      header(4, 4), Buffer.from([13, 0, 0, 0]),
    ]],
    ['a message claiming another sender than the handshake', () => [
      encodeFrame({ kind: 'hello', version: PROTOCOL_VERSION, from: 'x', to: 'b', token: null }),
      encodeFrame({ kind: 'raft', message: beat('a', 'b', 1) }),
    ]],
  ];

  test('a malformed frame closes only its own connection; the node keeps serving its peers', async () => {
    const nodes = await mesh(['a', 'b', 'c']);
    const b = node(nodes, 'b');
    const got = inbox(b.t);
    let commit = 0;
    for (const [name, chunks] of badInputs) {
      const before = b.t.stats().malformedFrames;
      const r = await rawExchange(b.addr.port, chunks());
      assert.ok(r.closed, name);
      assert.equal(b.t.stats().malformedFrames, before + 1, `${name}: not counted as malformed`);
      commit++;
      node(nodes, 'a').t.send('b', beat('a', 'b', commit));
      node(nodes, 'c').t.send('b', beat('c', 'b', commit));
      await waitFor(`${name}: peers still heard`, () => got.filter((g) => g.msg.type === 'heartbeat' && g.msg.commit === commit).length === 2);
    }
    // The peers' own connections were never disturbed.
    for (const id of ['a', 'c']) {
      const lines = node(nodes, id).log.lines;
      assert.ok(!lines.some((l) => /lost connection/.test(l.msg)), `${id} lost its connection`);
    }
    assert.ok(b.log.lines.filter((l) => /malformed frame/.test(l.msg)).length === badInputs.length);
    assert.equal(b.t.stats().inboundConnections, 2);
  });

  test('a connection that never completes its handshake is closed after the handshake timeout', async () => {
    const b = await startTransport('b', { handshakeTimeoutMs: 100 });
    const started = Date.now();
    const r = await rawExchange(b.addr.port, []);
    assert.ok(r.closed);
    assert.ok(Date.now() - started >= 90, 'closed before the timeout');
  });

  test('a refused handshake is answered with a reject frame naming the reason', async () => {
    const b = await startTransport('b', { clusterToken: 'tok' });
    const r = await rawExchange(b.addr.port, [encodeFrame({ kind: 'hello', version: PROTOCOL_VERSION, from: 'x', to: 'b', token: 'nope' })]);
    assert.ok(r.received.includes(Buffer.from('cluster token mismatch')));
    assert.equal(r.received.readUInt8(4), 3);
  });
});
