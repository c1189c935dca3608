import { createServer, type Server } from 'node:net';

/** Every port handed out by this process: never handed out twice (the OS may offer it again once freed). */
const handedOut = new Set<number>();

function listenAnywhere(srv: Server): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      resolve(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });
}

/**
 * `n` distinct TCP ports on 127.0.0.1 that were free a moment ago, none handed out before by this
 * process. Once a port is released the OS can offer it again to the next caller: a cluster that
 * asked for its ports one by one once got the same port as one node's Raft port and another's
 * REST port. Each port is held until all are chosen, and ports handed out earlier are skipped.
 */
export async function freePorts(n: number): Promise<number[]> {
  const held: Server[] = [];
  const out: number[] = [];
  try {
    while (out.length < n) {
      if (held.length > n + 200) throw new Error(`could not find ${n} ports on 127.0.0.1 not handed out before`);
      const srv = createServer();
      held.push(srv);
      const port = await listenAnywhere(srv);
      if (!handedOut.has(port)) {
        handedOut.add(port);
        out.push(port);
      }
    }
    return out;
  } finally {
    await Promise.all(held.map((srv) => new Promise<void>((r) => (srv.listening ? srv.close(() => r()) : r()))));
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS hands it out), never one handed out before. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 10_000, everyMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}
