/** Booking a slot and changing an appointment: hold, confirm, cancel, reschedule, check in, complete. */
import { createRoute, z } from '@hono/zod-openapi';
import { newRouter } from '../router';
import { ApiError, errorResponse } from '../errors';
import { bookingCommands } from './commands';
import { Uuid, IdempotencyHeader, AppointmentSchema, json, body, AUTH_ERRORS, type BookingContext } from './shared';

const CompleteBodySchema = z.strictObject({ diagnosisCode: z.string().max(10).optional() });

/** The complete route's optional body: none (or empty) is no diagnosis; otherwise it must be `{ diagnosisCode? }`. */
async function optionalDiagnosisCode(req: { text(): Promise<string> }): Promise<string | undefined> {
  const raw = await req.text();
  if (!raw.trim()) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ApiError(400, 'malformed_json', 'The body is not valid JSON.');
  }
  const body = CompleteBodySchema.safeParse(parsed);
  if (!body.success) {
    throw new ApiError(
      400,
      'validation_failed',
      'The request is not valid: see details.',
      body.error.issues.map((i) => ({ path: ['body', ...i.path].join('.'), message: i.message })),
    );
  }
  return body.data.diagnosisCode;
}

export function appointmentRoutes(router: ReturnType<typeof newRouter>, ctx: BookingContext) {
  const { bookers, desk, clinicians, ACTION_RESPONSES, IdParam } = ctx;
  const commands = bookingCommands(ctx);

  router.openapi(
    createRoute({
      method: 'post',
      path: '/appointments',
      summary: 'Book a slot: holds it for the patient until confirmed (hold duration per clinic policy)',
      security: [{ bearer: [] }],
      middleware: [bookers] as const,
      request: {
        headers: IdempotencyHeader,
        ...body(
          z.strictObject({
            slotId: Uuid,
            patientId: Uuid,
            referralId: Uuid.optional().openapi({ description: 'The referral this visit serves: its process adopts the booking' }),
            confirm: z.boolean().optional().openapi({
              description: 'Book and confirm in one call (the registrar at the desk): answered booked, with no hold to confirm',
            }),
          }),
        ),
      },
      responses: {
        201: json(AppointmentSchema, 'The slot is held (confirm it before holdExpiresAt), or booked with "confirm": true'),
        400: errorResponse('Malformed request'),
        ...AUTH_ERRORS,
        404: errorResponse('slot_not_found / patient_not_found / referral_not_found'),
        409: errorResponse(
          'slot_taken / patient_busy / slot_unavailable / idempotency_key_reused / clinic_not_live / invalid_state (the referral is not awaiting a booking)',
        ),
        422: errorResponse(
          'slot_in_past / beyond_booking_horizon / too_many_bookings / wrong_patient / wrong_practitioner (the slot does not serve the referral)',
        ),
        503: errorResponse(
          "unavailable: the slot stayed locked past the step's deadline, or the process could not start; nothing was held, try again",
        ),
      },
    }),
    async (c) => {
      const { slotId, patientId, referralId, confirm } = c.req.valid('json');
      const key = c.req.valid('header')['idempotency-key'];
      return c.json(await commands.book(c, { slotId, patientId, referralId, confirm, key }), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/appointments/{id}/confirm',
      summary: 'Confirm a held or offered appointment',
      security: [{ bearer: [] }],
      middleware: [bookers] as const,
      request: { params: IdParam },
      responses: ACTION_RESPONSES,
    }),
    async (c) => {
      return c.json(await commands.confirm(c, c.req.valid('param').id), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/appointments/{id}/cancel',
      summary: 'Cancel before the visit; the slot is offered to the waitlist',
      security: [{ bearer: [] }],
      middleware: [bookers] as const,
      request: { params: IdParam, ...body(z.strictObject({ reason: z.string().min(1).max(500) })) },
      responses: ACTION_RESPONSES,
    }),
    async (c) => {
      return c.json(await commands.cancel(c, c.req.valid('param').id, c.req.valid('json').reason), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/appointments/{id}/reschedule',
      summary: 'Move to another slot; the old one is freed only once the new one is held',
      security: [{ bearer: [] }],
      middleware: [bookers] as const,
      request: { params: IdParam, headers: IdempotencyHeader, ...body(z.strictObject({ slotId: Uuid })) },
      responses: ACTION_RESPONSES,
    }),
    async (c) => {
      return c.json(
        await commands.reschedule(c, c.req.valid('param').id, c.req.valid('json').slotId, c.req.valid('header')['idempotency-key']),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/appointments/{id}/check-in',
      summary: 'The registrar checks the patient in (a signal to the process)',
      security: [{ bearer: [] }],
      middleware: [desk] as const,
      request: { params: z.object({ id: Uuid }) },
      responses: {
        202: json(z.object({ id: Uuid, accepted: z.literal(true) }), 'Check-in recorded; the process marks the patient arrived'),
        400: errorResponse('Malformed id'),
        ...AUTH_ERRORS,
        404: errorResponse('appointment_not_found'),
        409: errorResponse('invalid_state: only a booked appointment can check in, from 2 hours before its start'),
      },
    }),
    async (c) => c.json(await commands.checkIn(c, c.req.valid('param').id), 202),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/appointments/{id}/complete',
      summary: 'The doctor closes the visit before its slot ends, optionally with the diagnosis (a signal to the process)',
      description:
        'Optional JSON body `{ "diagnosisCode": "J06.9" }`: an ICD-10 code from the Ministry of Health list, stored on the visit and in the record ' +
        "before the process is told; monitoring then records whether the visit's latest diagnosis suggestion had it first or among three.",
      security: [{ bearer: [] }],
      middleware: [clinicians] as const,
      // The body is optional and read by the handler: declared here, an empty body sent as JSON would be refused as malformed.
      request: { params: z.object({ id: Uuid }) },
      responses: {
        202: json(
          z.object({ id: Uuid, accepted: z.literal(true), diagnosis: z.object({ code: z.string(), title: z.string() }).nullable() }),
          'Completion recorded; the process marks the visit fulfilled',
        ),
        400: errorResponse('Malformed id or body (validation_failed / malformed_json)'),
        401: errorResponse('No or invalid token'),
        403: errorResponse("Not a doctor or admin, or another doctor's visit"),
        404: errorResponse('appointment_not_found'),
        409: errorResponse('invalid_state: only a visit whose patient has arrived can be completed'),
        422: errorResponse('invalid_icd10: the code is not in the ICD-10 list'),
      },
    }),
    async (c) => {
      const diagnosisCode = await optionalDiagnosisCode(c.req);
      return c.json(await commands.completeVisit(c, c.req.valid('param').id, diagnosisCode), 202);
    },
  );
}
