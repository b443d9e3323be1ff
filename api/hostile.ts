/**
 * Guards against hostile input that apply to every route: a size limit on request bodies (413 in
 * the API's error shape) and CORS for the configured origins only.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { errorBody } from './errors';
import type { AppEnv } from './router';

/** The default limit of a request body. */
export const BODY_LIMIT_BYTES = 256 * 1024;
/** Routes that take bigger bodies: HL7 result messages and CDS Hooks calls with their prefetch. */
export const LARGE_BODY_LIMIT_BYTES = 1024 * 1024;
const LARGE_BODY_PATHS = [/^\/lab-results\/hl7v2$/, /^\/cds-services\/[^/]+$/];

const limit = (maxSize: number) =>
  bodyLimit({
    maxSize,
    // The body is left unread: the connection closes after the answer, so a keep-alive client's next
    // request goes on a fresh connection instead of into the rest of this body.
    onError: (c) =>
      c.json(errorBody('payload_too_large', `The request body is larger than ${maxSize} bytes.`), 413, { connection: 'close' }),
  });

export function limitBodies(): MiddlewareHandler<AppEnv> {
  const small = limit(BODY_LIMIT_BYTES);
  const large = limit(LARGE_BODY_LIMIT_BYTES);
  return (c, next) => (LARGE_BODY_PATHS.some((p) => p.test(c.req.path)) ? large : small)(c, next);
}

/**
 * CORS for the configured origins only; with none configured, no cross-origin caller is allowed.
 * /codec answers its own preflight (the Temporal UI sends X-Namespace): api/codec.ts.
 */
export function corsForOrigins(origins: readonly string[]): MiddlewareHandler<AppEnv> {
  const forApi = cors({
    origin: (origin) => (origins.includes(origin) ? origin : null),
    allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    maxAge: 600,
  });
  return (c, next) => (c.req.path.startsWith('/codec/') ? next() : forApi(c, next));
}
