/**
 * Codec endpoint for the Temporal UI (its "codec server"): decodes encrypted payloads for ops
 * and admins, so the UI shows them what a process carries while the Temporal server stores ciphertext.
 *
 * Rules: a bearer token of role ops or admin (production: the UI's own login passes its token,
 * TEMPORAL_CODEC_PASS_ACCESS_TOKEN=true). CORS only for CORS_ORIGINS. The one exception is the
 * embedded start's local default (CODEC_LOOPBACK_OPEN): /decode answers without a token only when
 * the API listens on loopback, the peer is loopback and the Origin is an allowed one.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Payload } from '@temporalio/common';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { isLoopbackHost, type Config } from '../platform/config';
import { payloadCodec } from '../platform/temporal';
import { newRouter, type ApiDeps } from './router';
import { peerAddress, requireRole, type AuthEnv } from './auth';
import { ApiError, errorResponse } from './errors';

/** Payloads as the UI sends them: proto JSON, bytes in base64. */
const JsonPayloadSchema = z.strictObject({ metadata: z.record(z.string(), z.string()).optional(), data: z.string().optional() });
const PayloadsSchema = z.strictObject({ payloads: z.array(JsonPayloadSchema).max(1000) }).openapi('CodecPayloads');

const fromJson = (p: z.infer<typeof JsonPayloadSchema>): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

const CODEC_ROLES = ['ops', 'admin'] as const;

/** CORS headers for configured origins only; any other origin gets none (the browser then refuses). */
export function corsForConfiguredOrigins(origins: readonly string[]): MiddlewareHandler {
  const allowed = cors({
    origin: [...origins],
    credentials: true,
    // The UI signed in at the provider also sends its ID token (Authorization-Extras); /codec reads only Authorization.
    allowHeaders: ['authorization', 'authorization-extras', 'content-type', 'x-namespace'],
    allowMethods: ['POST', 'OPTIONS'],
  });
  return async (c, next) => (origins.includes(c.req.header('origin') ?? '') ? allowed(c, next) : next());
}

/** True when the token-less local default applies to this request (see the module comment). */
export function loopbackOpen(config: Config, c: Context): boolean {
  return (
    config.CODEC_LOOPBACK_OPEN &&
    isLoopbackHost(config.API_HOST) &&
    isLoopbackHost(peerAddress(c)) &&
    config.CORS_ORIGINS.includes(c.req.header('origin') ?? '')
  );
}

/** ops/admin token, or (decode only, no token sent) the loopback default. */
function codecAccess(config: Config, op: 'encode' | 'decode'): MiddlewareHandler<AuthEnv> {
  const withToken = requireRole(config, ...CODEC_ROLES);
  return async (c, next) => {
    if (op === 'decode' && !c.req.header('authorization') && loopbackOpen(config, c)) return next();
    return withToken(c, next);
  };
}

export function codecRouter(deps: ApiDeps) {
  const codec = payloadCodec(deps.config);
  const route = (op: 'encode' | 'decode') =>
    createRoute({
      method: 'post',
      path: `/${op}`,
      summary:
        op === 'decode' ? 'Decrypts payloads for the Temporal UI (ops and admin)' : 'Encrypts payloads for the Temporal UI (ops and admin)',
      security: [{ bearer: [] }],
      middleware: [codecAccess(deps.config, op)] as const,
      request: { body: { content: { 'application/json': { schema: PayloadsSchema } }, required: true } },
      responses: {
        200: { description: 'The payloads, transformed', content: { 'application/json': { schema: PayloadsSchema } } },
        400: errorResponse('Not payloads, or not decodable with our keys'),
        401: errorResponse('No or invalid token'),
        403: errorResponse('Only ops and admins may use the codec'),
      },
    });

  const router = newRouter();
  // The UI calls from the browser, from its own origin: only configured origins get CORS headers.
  router.use('*', corsForConfiguredOrigins(deps.config.CORS_ORIGINS));
  for (const op of ['encode', 'decode'] as const) {
    router.openapi(route(op), async (c) => {
      const { payloads } = c.req.valid('json');
      try {
        const out = await codec[op](payloads.map(fromJson));
        return c.json({ payloads: out.map(toJson) }, 200);
      } catch {
        throw new ApiError(400, 'validation_failed', "A payload could not be transformed with this installation's keys.");
      }
    });
  }
  return router;
}
