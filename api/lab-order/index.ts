/** The lab order process's routes: the doctor's, the lab's, and the lists around them. */
import { newRouter, type ApiDeps } from '../router';
import { labCriticalRouter } from './critical';
import { labRouter } from './lab';
import { labOrdersRouter } from './orders';
import { labViewsRouter } from './views';

export function labOrderRouter(deps: ApiDeps) {
  const router = newRouter();
  router.route('/', labOrdersRouter(deps));
  router.route('/', labRouter(deps));
  router.route('/', labViewsRouter(deps));
  router.route('/', labCriticalRouter(deps));
  return router;
}
