/**
 * Errors that mean a dependency is down rather than a bug: Postgres refusing or dropping
 * connections (stopped, restarting, out of connections, a pool connect that timed out) or the
 * Temporal frontend unreachable. The API answers these 503 `unavailable` at once, so clients
 * retry later (with the same idempotency key), instead of a 500 or a hang.
 */

/** Node socket errors on the way to a dependency. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
/**
 * Postgres SQLSTATEs: connection exceptions (08…), shutdown and start-up (57P01–57P03), insufficient
 * resources (53…: disk full, out of memory, too many connections) and I/O errors (58030).
 */
const PG_DOWN = /^(08\d{3}|57P0[1-3]|53\d{3}|58030)$/;
/** What pg and pg-pool say when a connection could not be made or was lost (they set no code). */
const PG_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error/i;
/** gRPC status UNAVAILABLE: the Temporal frontend does not answer. */
const GRPC_UNAVAILABLE = 14;

export type Dependency = 'postgres' | 'temporal';

/** Which dependency this error says is down, or null when it is some other error. */
export function unavailableDependency(err: unknown): Dependency | null {
  const chain = causes(err);
  // The Temporal client wraps gRPC errors in ServiceError; status 14 is UNAVAILABLE.
  if (chain.some((e) => e.code === GRPC_UNAVAILABLE || e.name === 'ConnectionError')) return 'temporal';
  const pgDown = chain.some(
    (e) =>
      (typeof e.code === 'string' && (PG_DOWN.test(e.code) || NETWORK_CODES.has(e.code))) ||
      (typeof e.message === 'string' && PG_MESSAGES.test(e.message)),
  );
  return pgDown ? 'postgres' : null;
}

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  name?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error, its causes and (AggregateError) its parts, each once. */
function causes(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const queue: unknown[] = [err];
  while (queue.length && out.length < 20) {
    const e = queue.shift();
    if (!e || typeof e !== 'object' || out.includes(e as ErrorLike)) continue;
    const x = e as ErrorLike;
    out.push(x);
    queue.push(x.cause, ...(Array.isArray(x.errors) ? x.errors : []));
  }
  return out;
}

export const UNAVAILABLE_MESSAGE: Record<Dependency, string> = {
  postgres: 'The database is unavailable; try again shortly (retry with the same idempotency key).',
  temporal: 'The process engine is unavailable; try again shortly (retry with the same idempotency key).',
};
