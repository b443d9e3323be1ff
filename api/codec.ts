/**
 * Codec endpoint for the Temporal UI (its "codec server"): decodes encrypted payloads for
 * callers with the admin role only, so ops browsing workflows see ciphertext, not patient data.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Payload } from '@temporalio/common';
import { cors } from 'hono/cors';
import { payloadCodec } from '../platform/temporal';
import { newRouter, type ApiDeps } from './router';
import { requireRole } from './auth';
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

export function codecRouter(deps: ApiDeps) {
  const codec = payloadCodec(deps.config);
  const route = (op: 'encode' | 'decode') =>
    createRoute({
      method: 'post',
      path: `/${op}`,
      summary: op === 'decode' ? 'Decrypts payloads for the Temporal UI (admin only)' : 'Encrypts payloads for the Temporal UI (admin only)',
      security: [{ bearer: [] }],
      middleware: [requireRole(deps.config.AUTH_SECRET, 'admin')] as const,
      request: { body: { content: { 'application/json': { schema: PayloadsSchema } }, required: true } },
      responses: {
        200: { description: 'The payloads, transformed', content: { 'application/json': { schema: PayloadsSchema } } },
        400: errorResponse('Not payloads, or not decodable with our keys'),
        401: errorResponse('No or invalid token'),
        403: errorResponse('Only admins may decode'),
      },
    });

  const router = newRouter();
  // The UI calls from the browser, from its own origin.
  router.use('*', cors({ origin: (origin) => origin, credentials: true, allowHeaders: ['authorization', 'content-type', 'x-namespace'] }));
  for (const op of ['encode', 'decode'] as const) {
    router.openapi(route(op), async (c) => {
      const { payloads } = c.req.valid('json');
      try {
        const out = await codec[op](payloads.map(fromJson));
        return c.json({ payloads: out.map(toJson) }, 200);
      } catch {
        throw new ApiError(400, 'validation_failed', 'A payload could not be transformed with this installation\'s keys.');
      }
    });
  }
  return router;
}
