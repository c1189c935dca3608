/**
 * A bare Node.js process for bench/idle-floor.ts, forked with an IPC channel; argv[2] picks its role:
 *
 *   idle MS          a timer every MS ms that does nothing (what any Node process with one timer costs)
 *   echo             a TCP server on 127.0.0.1 that writes back what it reads; sends its port over IPC
 *   ping PORT MS     connects to PORT and writes one 40-byte frame every MS ms (a follower's heartbeat,
 *                    answered by the echo: one send and one receive per interval on each side)
 *
 * It exits when the parent goes away (the IPC channel closes).
 */
import net from 'node:net';

function main(): void {
  const [role, a, b] = process.argv.slice(2);
  process.on('disconnect', () => process.exit(0));
  if (role === 'idle') {
    setInterval(() => undefined, Number(a));
  } else if (role === 'echo') {
    const server = net.createServer((s) => s.on('data', (d) => s.write(d)));
    server.listen(0, '127.0.0.1', () => process.send?.((server.address() as net.AddressInfo).port));
  } else if (role === 'ping') {
    const s = net.connect(Number(a), '127.0.0.1');
    s.on('data', () => undefined);
    const frame = Buffer.alloc(40);
    setInterval(() => s.write(frame), Number(b));
  } else {
    throw new Error(`idle-floor-child: unknown role ${JSON.stringify(role)} (expected idle, echo or ping)`);
  }
}

main();
