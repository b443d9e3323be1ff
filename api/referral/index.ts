/**
 * Referral routes: start a referral (idempotent per Idempotency-Key), read one with its timeline
 * and live step, list and queue them, book a slot for one, post the specialist's report,
 * acknowledge it, cancel. Registrars and doctors start referrals; patients see and cancel their own.
 */
import { newRouter, type ApiDeps } from '../router';
import { referralActionRoutes } from './actions';
import { referralContext } from './context';
import { createReferralRoutes } from './create';
import { referralReadRoutes } from './read';

export function referralRouter(deps: ApiDeps) {
  const router = newRouter();
  const ctx = referralContext(deps);
  createReferralRoutes(router, ctx);
  referralReadRoutes(router, ctx);
  referralActionRoutes(router, ctx);
  return router;
}
