import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PeerUnavailableError, RemoteError, RequestTimeoutError, TransportConfigError,
} from '../../../src/raft/transport/index.js';
import { closeAll, closeOne, mesh, node } from './support.js';

afterEach(closeAll);
after(closeAll);

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

describe('RPC channel', () => {
  test('concurrent requests each get their own answer, with the caller identified', async () => {
    const nodes = await mesh(['a', 'b']);
    node(nodes, 'b').t.onRequest(async (from, payload) => {
      // Answer out of order, so ids (not arrival order) must match answers to requests.
      await new Promise((r) => setTimeout(r, payload[0]! % 7));
      return text(`${from}:${str(payload)}`);
    });
    const asks = Array.from({ length: 40 }, (_, i) => `${String.fromCharCode(i)}req-${i}`);
    const answers = await Promise.all(asks.map((q) => node(nodes, 'a').t.request('b', text(q), 2_000)));
    assert.deepEqual(answers.map(str), asks.map((q) => `a:${q}`));
    assert.equal(node(nodes, 'a').t.stats().traffic.requestsSent, 40);
    assert.equal(node(nodes, 'b').t.stats().traffic.requestsServed, 40);
    assert.equal(node(nodes, 'b').t.stats().traffic.requestsSent, 0);
  });

  test('a large payload travels both ways intact', async () => {
    const nodes = await mesh(['a', 'b']);
    node(nodes, 'b').t.onRequest(async (_from, payload) => payload.map((x) => 255 - x));
    const big = new Uint8Array(3 << 20).map((_, i) => i & 0xff);
    const answer = await node(nodes, 'a').t.request('b', big, 5_000);
    assert.deepEqual(answer, big.map((x) => 255 - x));
  });

  test('no answer within the timeout rejects with RequestTimeoutError; a late answer is ignored', async () => {
    const nodes = await mesh(['a', 'b']);
    let slow = true;
    node(nodes, 'b').t.onRequest(async () => {
      if (slow) await new Promise((r) => setTimeout(r, 150));
      return text('done');
    });
    const started = Date.now();
    const err = await node(nodes, 'a').t.request('b', text('q'), 50).catch((e: unknown) => e);
    assert.ok(err instanceof RequestTimeoutError, String(err));
    assert.equal(err.peer, 'b');
    assert.ok(Date.now() - started < 140, 'timed out too late');
    await new Promise((r) => setTimeout(r, 150)); // the late answer arrives and must be ignored
    slow = false;
    assert.equal(str(await node(nodes, 'a').t.request('b', text('q'), 1_000)), 'done');
  });

  test('a failing handler comes back as RemoteError carrying only its message', async () => {
    const nodes = await mesh(['a', 'b']);
    node(nodes, 'b').t.onRequest(async (_from, payload) => {
      if (str(payload) === 'string') throw 'a thrown string';
      const e = new Error('not the leader: try c');
      (e as Error & { detail?: string }).detail = 'internal detail';
      throw e;
    });
    const err = await node(nodes, 'a').t.request('b', text('x'), 1_000).catch((e: unknown) => e);
    assert.ok(err instanceof RemoteError);
    assert.equal(err.message, 'not the leader: try c');
    assert.equal(err.peer, 'b');
    assert.ok(!('detail' in err));
    assert.ok(!err.message.includes('    at '), 'remote stack frames leaked');
    const err2 = await node(nodes, 'a').t.request('b', text('string'), 1_000).catch((e: unknown) => e);
    assert.ok(err2 instanceof RemoteError && err2.message === 'a thrown string');
  });

  test('a node without a request handler answers with RemoteError', async () => {
    const nodes = await mesh(['a', 'b']);
    const err = await node(nodes, 'a').t.request('b', text('x'), 1_000).catch((e: unknown) => e);
    assert.ok(err instanceof RemoteError && /serves no requests/.test(err.message));
  });

  test('a lost connection fails requests in flight at once, not at their timeout', async () => {
    const nodes = await mesh(['a', 'b']);
    node(nodes, 'b').t.onRequest(() => new Promise<Uint8Array>(() => {}));
    const started = Date.now();
    const pending = node(nodes, 'a').t.request('b', text('x'), 5_000).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 30));
    await closeOne(node(nodes, 'b').t);
    const err = await pending;
    assert.ok(err instanceof PeerUnavailableError && err.reason === 'disconnected', String(err));
    assert.ok(Date.now() - started < 2_000);
  });

  test('unknown peers, a closed transport and a bad timeout are refused with typed errors', async () => {
    const nodes = await mesh(['a', 'b']);
    const a = node(nodes, 'a').t;
    const unknown = await a.request('zz', text('x'), 100).catch((e: unknown) => e);
    assert.ok(unknown instanceof PeerUnavailableError && unknown.reason === 'unknown-peer');
    await assert.rejects(a.request('b', text('x'), 0), TransportConfigError);
    const inFlight = a.request('b', text('x'), 5_000).catch((e: unknown) => e);
    await closeOne(a);
    const closedErr = await inFlight;
    assert.ok(closedErr instanceof PeerUnavailableError && closedErr.reason === 'closed');
    const after = await a.request('b', text('x'), 100).catch((e: unknown) => e);
    assert.ok(after instanceof PeerUnavailableError && after.reason === 'closed');
  });
});
