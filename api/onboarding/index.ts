/** Onboarding and rollout routes: a clinic's onboarding, and the city rollout programs. */
import { newRouter, type ApiDeps } from '../router';
import { clinicOnboardingRouter } from './clinic';
import { programsRouter } from './programs';

export function onboardingRouter(deps: ApiDeps) {
  const router = newRouter();
  router.route('/', clinicOnboardingRouter(deps));
  router.route('/', programsRouter(deps));
  return router;
}
