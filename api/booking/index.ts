/**
 * Booking routes: search slots, book (a Postgres transaction, then the process starts; idempotent per Idempotency-Key),
 * confirm, cancel, reschedule, check in, complete, the waitlist, and the lists patients and doctors read.
 * Access is decided in api/access.ts: patients their own records, registrars their clinic(s),
 * doctors the patients they care for.
 */
import { newRouter, type ApiDeps } from '../router';
import { appointmentRoutes } from './appointments';
import { scheduleRoutes } from './schedule';
import { bookingContext } from './shared';

export function bookingRouter(deps: ApiDeps) {
  const router = newRouter();
  const ctx = bookingContext(deps);
  scheduleRoutes(router, ctx);
  appointmentRoutes(router, ctx);
  return router;
}
