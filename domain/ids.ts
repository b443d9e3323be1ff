/**
 * Name-based ids (RFC 9562 UUID version 5, from the maintained `uuid` package): the same name in
 * the same namespace always gives the same id, so a retried request or activity finds what it
 * made before. One namespace per kind of name keeps ids of different kinds apart.
 *
 * Compatibility: before this helper, ids were a SHA-256 prefix stamped as version 4 (bookings,
 * offers, waitlist entries) or 5 (demo records). Ids already issued stay valid and readable: they
 * are stored in their rows and never recomputed. Only an Idempotency-Key first sent before the
 * upgrade and retried after it maps to a new id; such a retry is then a new request (the database's
 * one-live-appointment-per-slot and no-overlap constraints still refuse a double booking).
 */
import { v5 as uuidv5 } from 'uuid';

/** The engine's root namespace (a fixed random uuid). */
const ENGINE_NAMESPACE = '0b7c5f4e-2d8a-4a63-9d1e-6f3b2a9c8e17';

export type IdKind =
  'booking' | 'offer' | 'waitlist' | 'demo' | 'referral' | 'lab-order' | 'onboarding' | 'rollout' | 'cds' | 'test' | 'delivery';

const namespaces = new Map<IdKind, string>();
function namespaceOf(kind: IdKind): string {
  let ns = namespaces.get(kind);
  if (!ns) {
    ns = uuidv5(kind, ENGINE_NAMESPACE);
    namespaces.set(kind, ns);
  }
  return ns;
}

/** The id of `name` among ids of this kind, e.g. nameUuid('booking', `${caller}:${idempotencyKey}`). */
export function nameUuid(kind: IdKind, name: string): string {
  return uuidv5(name, namespaceOf(kind));
}
