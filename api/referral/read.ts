/**
 * The referral reads: the registrar's queue, lists by clinic and status, one referral with its
 * timeline (Postgres) and live step (its process's query), and a patient's referrals.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { listReferrals, referralTimeline } from '../../db/referral';
import { referralStatusQuery } from '../../workflows/referral';
import { canReadPatientRecord, clinicFilterFor } from '../access';
import { errorResponse } from '../errors';
import type { ReferralContext, ReferralRouter } from './context';
import { AUTH_ERRORS, IdParam, ListQuery, ReferralDetailSchema, ReferralListSchema, STATUSES, Uuid, json } from './schemas';

export function referralReadRoutes(router: ReferralRouter, ctx: ReferralContext) {
  const { db, temporal } = ctx.deps;
  const { desk, presentWithOffers, view } = ctx;
  const { ownReferral } = desk;
  const { staff, anyone } = ctx.roles;

  router.openapi(
    createRoute({
      method: 'get',
      path: '/referrals/queue',
      summary: "The registrar's work queue: referrals awaiting booking, escalated first, then nearest deadline",
      security: [{ bearer: [] }],
      middleware: [staff] as const,
      request: {
        query: ListQuery.extend({
          clinicId: Uuid.optional().openapi({
            description: "Defaults to the clinic a registrar's token names; doctors and admin name one",
          }),
        }),
      },
      responses: {
        200: json(ReferralListSchema, 'The queue, in working order; nextOffset fetches the next page'),
        400: errorResponse('Malformed query, or no clinic named'),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => c.json(await desk.queue(c, c.req.valid('query')), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/referrals',
      summary: 'Referrals by clinic, status and breach, newest first, paged',
      security: [{ bearer: [] }],
      middleware: [staff] as const,
      request: {
        query: ListQuery.extend({
          clinicId: Uuid.optional(),
          status: z.enum(STATUSES).optional(),
          breached: z.enum(['true', 'false']).optional(),
        }),
      },
      responses: {
        200: json(ReferralListSchema, 'A page of referrals; nextOffset fetches the next'),
        400: errorResponse('Malformed query'),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listReferrals(db, {
        clinicId: clinicFilterFor(c.get('caller'), q.clinicId),
        status: q.status,
        breached: q.breached === undefined ? undefined : q.breached === 'true',
        limit: q.limit + 1,
        offset: q.offset,
      });
      const more = rows.length > q.limit;
      return c.json(
        { referrals: await presentWithOffers(c.get('caller'), rows.slice(0, q.limit)), nextOffset: more ? q.offset + q.limit : null, more },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/referrals/{id}',
      summary: "One referral with its timeline (Postgres) and live step (the process's query)",
      security: [{ bearer: [] }],
      middleware: [anyone] as const,
      request: { params: IdParam },
      responses: {
        200: json(ReferralDetailSchema, 'The referral'),
        400: errorResponse('Malformed id'),
        ...AUTH_ERRORS,
        404: errorResponse('referral_not_found'),
      },
    }),
    async (c) => {
      const row = await ownReferral(c, c.req.valid('param').id, 'read');
      const [timeline, live] = await Promise.all([
        referralTimeline(db, row.id),
        temporal.workflow
          .getHandle(row.workflow_id)
          .query(referralStatusQuery)
          .catch(() => null),
      ]);
      return c.json(
        {
          ...(await view(row)),
          timeline: timeline.map((e) => ({ at: e.at.toISOString(), step: e.step, actor: e.actor, details: e.details })),
          process: live
            ? {
                status: live.status,
                escalateAt: live.escalateAt,
                escalationLevel: live.escalationLevel,
                acknowledgeLevel: live.acknowledgeLevel,
                appointmentId: live.appointmentId,
              }
            : null,
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/patients/{id}/referrals',
      summary: "A patient's referrals, newest first",
      security: [{ bearer: [] }],
      middleware: [anyone] as const,
      request: { params: IdParam, query: ListQuery },
      responses: { 200: json(ReferralListSchema, 'Referrals'), 400: errorResponse('Malformed id'), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await canReadPatientRecord(c, db, id, { type: 'ServiceRequestList', id });
      const q = c.req.valid('query');
      const rows = await listReferrals(db, { patientId: id, limit: q.limit + 1, offset: q.offset });
      const more = rows.length > q.limit;
      return c.json(
        {
          referrals: await presentWithOffers(c.get('caller'), rows.slice(0, q.limit), true),
          nextOffset: more ? q.offset + q.limit : null,
          more,
        },
        200,
      );
    },
  );
}
