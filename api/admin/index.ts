/** Admin routes: policies (referral waiting times, lab escalation, critical ranges) and clinic calendars. */
import { newRouter, type ApiDeps } from '../router';
import { adminClinicsRouter } from './clinics';
import { adminPoliciesRouter } from './policies';

export function adminRouter(deps: ApiDeps) {
  const router = newRouter();
  router.route('/', adminPoliciesRouter(deps));
  router.route('/', adminClinicsRouter(deps));
  return router;
}
