/** What the admin routers share: schemas, response helpers, the audit actor, refusals. */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { PolicyChangeActor } from '../../db/audit';
import { checkEffectiveFrom, type PolicyRefusal } from '../../domain/admin-policy';
import { ApiError, errorResponse } from '../errors';
import type { AppEnv } from '../router';

export const Uuid = z.string().uuid();
export const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
export const body = <T extends z.ZodTypeAny>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
export const AUTH_ERRORS = { 401: errorResponse('No or invalid token'), 403: errorResponse('forbidden: the admin role is required') };

const Instant = z.string().datetime({ offset: true });
/** `?at=` on every listing: which version is in force at that instant (default now). */
export const AtQuery = z.object({
  at: Instant.optional().openapi({
    description: 'The instant to mark the version in force at (default now)',
    example: '2027-01-01T00:00:00Z',
  }),
});
/** Every change: from when (default now; never in the past) and why (kept in the audit row). */
export const ChangeFields = {
  effectiveFrom: Instant.optional().openapi({
    description: 'When the version takes effect (default now); an instant in the past is refused',
    example: '2027-01-01T00:00:00+03:00',
  }),
  reason: z.string().min(1).max(500).optional().openapi({ description: 'Why: kept in the audit row' }),
};

export const VersionFields = {
  id: Uuid,
  effectiveFrom: z.string().datetime(),
  createdBy: z.string().nullable(),
  createdAt: z.string().datetime(),
  inForce: z.boolean().openapi({ description: 'The version in force at `at` for its scope' }),
};

export function refuse(r: PolicyRefusal | null): void {
  if (r) throw new ApiError(422, r.code, r.message, { field: r.field });
}

/** The effectiveFrom of a change: now when omitted, refused when in the past. */
export function effectiveFrom(iso: string | undefined, now = new Date()): Date {
  const at = iso ? new Date(iso) : now;
  refuse(checkEffectiveFrom(at, now));
  return at;
}

export const atOf = (iso: string | undefined) => (iso ? new Date(iso) : new Date());

/** Who makes this change, for its audit row. */
export function changeActor(c: Context<AppEnv>, reason: string | undefined): PolicyChangeActor {
  const caller = c.get('caller');
  const route = `${c.req.method} ${c.req.routePath}`;
  return { actor: caller.id, role: caller.role, route, requestId: c.get('requestId') ?? null, reason: reason ?? null };
}

/** A second version of one scope at the same instant: the unique index says no. */
export async function oneVersionPerInstant<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      const message = 'A version of this policy already takes effect at that instant; pick another effectiveFrom.';
      throw new ApiError(409, 'version_exists', message);
    }
    throw err;
  }
}
