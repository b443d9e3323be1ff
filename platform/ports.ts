/** Loopback ports for the local stack and its tests. */
import net from 'node:net';

/** A free TCP port on loopback, for test stacks. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when something already listens on the port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A free loopback port below 32768, not in `taken`: the production Temporal server stores its
 * services' ports in smallint columns, and the kernel's own free ports (ephemeral range) lie above.
 */
export function freePortBelow32768(taken: ReadonlySet<number> = new Set()): Promise<number> {
  const candidate = 20_000 + Math.floor(Math.random() * 12_000);
  if (taken.has(candidate)) return freePortBelow32768(taken);
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(freePortBelow32768(taken)));
    probe.listen(candidate, '127.0.0.1', () => probe.close(() => resolve(candidate)));
  });
}
