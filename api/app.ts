/**
 * The Hono app: request ids, JSON access logs, one error shape, the OpenAPI document and docs,
 * and one router per process. It holds no process logic: it starts, signals, updates and
 * queries workflows and reads lists from Postgres.
 */
import { requestId } from 'hono/request-id';
import { httpRequestSeconds } from '../platform/metrics';
import { adminRouter } from './admin';
import { flushAccessAudit } from './access';
import { bookingRouter } from './booking';
import { cdsHooksRouter } from './cds-hooks';
import { codecRouter } from './codec';
import { deskOpsRouter } from './desk-ops';
import { diagnosisRouter } from './diagnosis';
import { docsRouter } from './docs';
import { errorBody, handleError } from './errors';
import { healthRouter } from './health';
import { corsForOrigins, limitBodies } from './hostile';
import { onboardingRouter } from './onboarding';
import { labOrderRouter } from './lab-order';
import { labMessagesRouter } from './lab-messages';
import { meRouter } from './me';
import { metricsRouter } from './metrics';
import { opsRouter } from './ops';
import { opsSummaryRouter } from './ops-summary';
import { patientSearchRouter } from './patient-search';
import { recordRouter } from './record';
import { referralRouter } from './referral';
import { newRouter, type ApiDeps } from './router';
import { notifyRouter } from './notify';
import { notifyOpsRouter } from './notify-ops';
import { webRouter } from '../web';

export type { ApiDeps, AppEnv } from './router';

export function createApp(deps: ApiDeps) {
  const app = newRouter();
  app.use(requestId());
  app.use(corsForOrigins(deps.config.CORS_ORIGINS));
  app.use(limitBodies());
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const ms = performance.now() - started;
    // Route pattern, status and opaque ids only: no bodies, no query strings.
    deps.logger.info(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        ms: Math.round(ms * 10) / 10,
        role: c.get('caller')?.role,
        authRefusal: c.get('authRefusal'),
      },
      'request',
    );
    httpRequestSeconds.observe({ method: c.req.method, route: c.req.routePath, status: String(c.res.status) }, ms / 1000);
  });
  const onError = handleError(deps.logger);
  app.onError(onError);
  // What Hono does not give onError (thrown values that are not `instanceof Error` here) gets the same answer.
  app.use(async (c, next) => {
    try {
      await next();
    } catch (err) {
      c.res = onError(err, c);
    }
  });
  // Inside the catch above: an audit that cannot be written replaces the answer it would have let out.
  app.use(flushAccessAudit(deps.db, (err) => deps.logger.error({ err: String(err) }, 'a refused access could not be audited')));
  app.notFound((c) => c.json(errorBody('not_found', `No route for ${c.req.method} ${c.req.path}.`), 404));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  app.route('/', healthRouter(deps));
  app.route('/', metricsRouter(deps));
  app.route('/ops', opsRouter(deps));
  app.route('/ops', opsSummaryRouter(deps));
  app.route('/codec', codecRouter(deps));
  app.route('/cds-services', cdsHooksRouter(deps));
  app.route('/', bookingRouter(deps));
  app.route('/', onboardingRouter(deps));
  app.route('/', referralRouter(deps));
  app.route('/', labOrderRouter(deps));
  app.route('/', labMessagesRouter(deps));
  app.route('/', recordRouter(deps));
  app.route('/', adminRouter(deps));
  app.route('/', meRouter(deps));
  app.route('/', patientSearchRouter(deps));
  app.route('/', diagnosisRouter(deps));
  app.route('/', notifyRouter(deps));
  app.route('/', notifyOpsRouter(deps));
  app.route('/', deskOpsRouter(deps));
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Clinical process engine API',
      version: '0.1.0',
      description: "Starts, signals, updates and queries the clinic's durable processes.",
    },
  });
  app.route('/docs', docsRouter());
  // The pages (web/): their own paths, session cookie and CSRF checks; the JSON routes above are unchanged.
  app.route('/', webRouter(deps));
  return app;
}
