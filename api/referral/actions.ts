/** The referral actions: book a slot, the specialist's report, its acknowledgement, cancel. Each is an Update to the process. */
import { createRoute, z } from '@hono/zod-openapi';
import { cancelReferralUpdate } from '../../workflows/referral';
import { ApiError, errorResponse } from '../errors';
import type { ReferralContext, ReferralRouter } from './context';
import { ACTION_ERRORS, BookedSchema, IdParam, ReferralSchema, Uuid, body, json } from './schemas';

export function referralActionRoutes(router: ReferralRouter, ctx: ReferralContext) {
  const { desk, reportCommands, view, fresh } = ctx;
  const { ownReferral, update } = desk;
  const { bookers, doctors, anyone } = ctx.roles;

  router.openapi(
    createRoute({
      method: 'post',
      path: '/referrals/{id}/book',
      summary: 'Book a slot for the referral: held and confirmed at once, run by its own booking process',
      security: [{ bearer: [] }],
      middleware: [bookers] as const,
      request: { params: IdParam, ...body(z.strictObject({ slotId: Uuid })) },
      responses: {
        201: json(BookedSchema, 'Booked'),
        ...ACTION_ERRORS,
        404: errorResponse('referral_not_found / slot_not_found'),
        409: errorResponse('invalid_state / slot_taken / patient_busy / slot_unavailable'),
        422: errorResponse('slot_in_past / beyond_booking_horizon / too_many_bookings'),
      },
    }),
    async (c) => c.json(await desk.book(c, c.req.valid('param').id, c.req.valid('json').slotId), 201),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/referrals/{id}/report',
      summary: 'The specialist who saw the patient posts the consultation report (once; a repeat is answered the same)',
      security: [{ bearer: [] }],
      middleware: [doctors] as const,
      request: {
        params: IdParam,
        ...body(
          z.strictObject({
            patientId: Uuid,
            conclusion: z.string().min(1).max(5000),
            icd10: z.array(z.string().max(10)).min(1).max(20),
            recommendations: z.string().max(5000),
          }),
        ),
      },
      responses: {
        200: json(ReferralSchema, 'Report recorded'),
        ...ACTION_ERRORS,
        403: errorResponse('wrong_practitioner / wrong_patient'),
        422: errorResponse('invalid_icd10'),
      },
    }),
    async (c) => {
      const row = await reportCommands.report(c, c.req.valid('param').id, c.req.valid('json'));
      return c.json(await fresh(row.id), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/referrals/{id}/acknowledge',
      summary: "The referring doctor acknowledges the specialist's report; the referral closes",
      security: [{ bearer: [] }],
      middleware: [doctors] as const,
      request: { params: IdParam },
      responses: { 200: json(ReferralSchema, 'Acknowledged and closed'), ...ACTION_ERRORS, 403: errorResponse('wrong_practitioner') },
    }),
    async (c) => {
      const { row, already } = await reportCommands.acknowledge(c, c.req.valid('param').id);
      return c.json(already ? await view(row) : await fresh(row.id), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/referrals/{id}/cancel',
      summary: 'Cancel the referral (referring doctor, patient or registrar; reason required); its booking is released',
      security: [{ bearer: [] }],
      middleware: [anyone] as const,
      request: { params: IdParam, ...body(z.strictObject({ reason: z.string().min(1).max(500) })) },
      responses: { 200: json(ReferralSchema, 'Cancelled'), ...ACTION_ERRORS, 403: errorResponse('forbidden / wrong_practitioner') },
    }),
    async (c) => {
      const row = await ownReferral(c, c.req.valid('param').id);
      const caller = c.get('caller');
      if (caller.role === 'doctor' && caller.practitionerId !== row.referring_practitioner_id)
        throw new ApiError(403, 'wrong_practitioner', 'Only the referring practitioner cancels a referral.');
      if (row.status === 'cancelled') return c.json(await view(row), 200);
      await update(row, (h) =>
        h.executeUpdate(cancelReferralUpdate, { args: [{ by: caller.id, reason: c.req.valid('json').reason }], updateId: 'cancel' }),
      );
      return c.json(await fresh(row.id), 200);
    },
  );
}
