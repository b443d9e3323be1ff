/** Loopback ports for the local stack and its tests. */
import net from 'node:net';

/** Ports this process has handed out: two settings must never share one. */
const handedOut = new Set<number>();

/**
 * A free TCP port on loopback for a local stack or a test, never one this process handed out before.
 * Below 32768, outside the kernel's ephemeral range: a port picked there and freed could be taken by any
 * process's outgoing connection (a Postgres client's, say) before the part it was picked for binds it.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await freePortBelow32768(handedOut);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** True when something already listens on the port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
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
