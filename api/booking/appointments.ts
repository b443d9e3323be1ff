/** Booking a slot and changing an appointment: hold, confirm, cancel, reschedule, check in, complete. */
import { createRoute, z } from '@hono/zod-openapi';
import { createBookingActivities } from '../../activities/booking';
import { bookableSlot, bookingPolicy } from '../../db/booking';
import { recordVisitDiagnosis } from '../../db/diagnosis';
import { CHECK_IN_OPENS_SECONDS } from '../../domain/booking';
import { nameUuid } from '../../domain/ids';
import { BOOKABLE_STAGES } from '../../domain/onboarding';
import { bookingWorkflowId, cancelUpdate, checkInSignal, rescheduleUpdate, visitCompletedSignal } from '../../workflows/booking';
import { newRouter } from '../router';
import { canBookFor } from '../access';
import { ApiError, errorResponse, fromRefusal } from '../errors';
import { icd10Lookup } from '../icd10';
import { startBookingProcess, tellConfirmed } from './process';
import { BOOKING_FAILURES, Uuid, IdempotencyHeader, AppointmentSchema, json, body, AUTH_ERRORS, assertOwnPatient, type BookingContext } from './shared';

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
    throw new ApiError(400, 'validation_failed', 'The request is not valid: see details.', body.error.issues.map((i) => ({ path: ['body', ...i.path].join('.'), message: i.message })));
  }
  return body.data.diagnosisCode;
}

export function appointmentRoutes(router: ReturnType<typeof newRouter>, ctx: BookingContext) {
  const { db, bookers, desk, clinicians, ownAppointment, update, present, referralFor, ACTION_RESPONSES, IdParam, starter, processDeps } = ctx;
  const booking = createBookingActivities({ db });
  const { logger } = ctx;

  router.openapi(
    createRoute({
      method: 'post', path: '/appointments', summary: 'Book a slot: holds it for the patient until confirmed (hold duration per clinic policy)',
      security: [{ bearer: [] }], middleware: [bookers] as const,
      request: {
        headers: IdempotencyHeader,
        ...body(z.strictObject({
          slotId: Uuid, patientId: Uuid,
          referralId: Uuid.optional().openapi({ description: 'The referral this visit serves: its process adopts the booking' }),
          confirm: z.boolean().optional().openapi({ description: 'Book and confirm in one call (the registrar at the desk): answered booked, with no hold to confirm' }),
        })),
      },
      responses: {
        201: json(AppointmentSchema, 'The slot is held (confirm it before holdExpiresAt), or booked with "confirm": true'),
        400: errorResponse('Malformed request'), ...AUTH_ERRORS,
        404: errorResponse('slot_not_found / patient_not_found / referral_not_found'),
        409: errorResponse('slot_taken / patient_busy / slot_unavailable / idempotency_key_reused / clinic_not_live / invalid_state (the referral is not awaiting a booking)'),
        422: errorResponse('slot_in_past / beyond_booking_horizon / too_many_bookings / wrong_patient / wrong_practitioner (the slot does not serve the referral)'),
        503: errorResponse('unavailable: the slot stayed locked past the step\'s deadline, or the process could not start; nothing was held, try again'),
      },
    }),
    async (c) => {
      const { slotId, patientId, referralId, confirm } = c.req.valid('json');
      const key = c.req.valid('header')['idempotency-key'];
      const caller = c.get('caller');
      assertOwnPatient(caller, patientId);
      // Behind this API's answers, processes start at their own pace: when they cannot, new bookings wait.
      const behind = starter !== undefined && referralId === undefined;
      const refusal = behind ? starter.refusal() : null;
      if (refusal) throw new ApiError(503, 'unavailable', `${refusal}; nothing was booked. Try again shortly with the same Idempotency-Key.`);
      // Early, friendly refusals; the activity checks again inside its transaction.
      const slot = await bookableSlot(db, slotId);
      if (!slot) throw new ApiError(404, 'slot_not_found', `Slot ${slotId} does not exist.`);
      await canBookFor(c, db, patientId, slot.clinic_id, { type: 'Appointment', id: nameUuid('booking', `${caller.id}:${key}`) });
      // The losers of a race for a slot hear it from the slot's first read, unless it is their own retry.
      if (slot.taken && !(await db.selectFrom('appointments').select('id').where('id', '=', nameUuid('booking', `${caller.id}:${key}`)).executeTakeFirst())) {
        throw new ApiError(409, 'slot_taken', 'the slot is already booked');
      }
      if (!BOOKABLE_STAGES.includes(slot.rollout_stage)) throw new ApiError(409, 'clinic_not_live', `This clinic is in its ${slot.rollout_stage} stage: it takes bookings from its pilot on.`, { stage: slot.rollout_stage });
      const policy = await bookingPolicy(db, slot.clinic_id);
      if (slot.starts_at.getTime() <= Date.now()) throw new ApiError(422, 'slot_in_past', 'That slot has already started.');
      if (slot.starts_at.getTime() > Date.now() + policy.horizonDays * 86_400_000) {
        throw new ApiError(422, 'beyond_booking_horizon', `Bookings open ${policy.horizonDays} days ahead at this clinic.`);
      }
      const referralWorkflowId = referralId ? await referralFor(referralId, patientId, slot) : undefined;

      // The same caller and key always name the same appointment, hence the same process.
      const appointmentId = nameUuid('booking', `${caller.id}:${key}`);
      const workflowId = bookingWorkflowId(appointmentId);
      // Postgres decides (one short transaction); a refusal is answered at once, with no process.
      const { view, created } = await booking.holdSlotRow({ appointmentId, workflowId, patientId, slotId, bookedBy: caller.id, policy, confirm: confirm === true, processPending: behind }).catch((err) => fromRefusal(err, BOOKING_FAILURES));
      // The key names an earlier request; a different slot or patient under it is a client bug.
      if (view.slotId !== slotId || view.patientId !== patientId) {
        throw new ApiError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used for a different booking; use a new key.');
      }
      if (behind) {
        starter.enqueue(view, policy);
        return c.json(await present(view), 201);
      }
      try {
        await startBookingProcess(processDeps, view, policy, referralWorkflowId);
      } catch (err) {
        // No process, no appointment: what this call made is taken back, and the same key may try again.
        if (created) await booking.withdrawUnstarted({ appointmentId, workflowId, by: caller.id });
        throw new ApiError(503, 'unavailable', 'The booking process could not be started; nothing was booked. Try again with the same Idempotency-Key.', { cause: String(err) });
      }
      return c.json(await present(view), 201);
    },
  );


  router.openapi(createRoute({ method: 'post', path: '/appointments/{id}/confirm', summary: 'Confirm a held or offered appointment', security: [{ bearer: [] }], middleware: [bookers] as const, request: { params: IdParam }, responses: ACTION_RESPONSES }), async (c) => {
    const row = await ownAppointment(c, c.req.valid('param').id);
    // Postgres decides (held/offered with a live hold → booked); the process hears of it right after.
    const view = await booking.confirmAppointment({ appointmentId: row.id, workflowId: row.workflow_id, by: c.get('caller').id }).catch((err) => fromRefusal(err, BOOKING_FAILURES));
    const onLost = (err: unknown) => logger.warn({ appointmentId: row.id, err: String(err) }, 'confirmed; the process will find it on its hold timer');
    await (starter ? starter.confirmed(view, onLost) : tellConfirmed(processDeps, view, onLost));
    return c.json(await present(view), 200);
  });

  router.openapi(
    createRoute({ method: 'post', path: '/appointments/{id}/cancel', summary: 'Cancel before the visit; the slot is offered to the waitlist', security: [{ bearer: [] }], middleware: [bookers] as const, request: { params: IdParam, ...body(z.strictObject({ reason: z.string().min(1).max(500) })) }, responses: ACTION_RESPONSES }),
    async (c) => {
      const row = await ownAppointment(c, c.req.valid('param').id);
      const { reason } = c.req.valid('json');
      const view = await update(row, (h) => h.executeUpdate(cancelUpdate, { args: [{ by: c.get('caller').id, reason }] }));
      return c.json(await present(view), 200);
    },
  );

  router.openapi(
    createRoute({ method: 'post', path: '/appointments/{id}/reschedule', summary: 'Move to another slot; the old one is freed only once the new one is held', security: [{ bearer: [] }], middleware: [bookers] as const, request: { params: IdParam, headers: IdempotencyHeader, ...body(z.strictObject({ slotId: Uuid })) }, responses: ACTION_RESPONSES }),
    async (c) => {
      const row = await ownAppointment(c, c.req.valid('param').id);
      const { slotId } = c.req.valid('json');
      const key = c.req.valid('header')['idempotency-key'];
      // The appointment's clinic was checked above; the move itself stays in that clinic (other_clinic).
      // The update id is the caller's: another caller's key never answers for this one.
      const view = await update(row, (h) => h.executeUpdate(rescheduleUpdate, { args: [{ slotId, by: c.get('caller').id }], updateId: `reschedule:${c.get('caller').id}:${key}` }));
      // A key's first move is answered again for the same key; naming another slot with it is a mistake, not a move.
      if (view.slotId !== slotId) throw new ApiError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used to move this appointment to another slot; use a new key.');
      return c.json(await present(view), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post', path: '/appointments/{id}/check-in', summary: 'The registrar checks the patient in (a signal to the process)',
      security: [{ bearer: [] }], middleware: [desk] as const, request: { params: z.object({ id: Uuid }) },
      responses: { 202: json(z.object({ id: Uuid, accepted: z.literal(true) }), 'Check-in recorded; the process marks the patient arrived'), 400: errorResponse('Malformed id'), ...AUTH_ERRORS, 404: errorResponse('appointment_not_found'), 409: errorResponse('invalid_state: only a booked appointment can check in, from 2 hours before its start') },
    }),
    async (c) => {
      const row = await ownAppointment(c, c.req.valid('param').id);
      if (row.status !== 'booked') throw new ApiError(409, 'invalid_state', `Only a booked appointment can check in; this one is ${row.status}.`);
      if (Date.now() < row.starts_at.getTime() - CHECK_IN_OPENS_SECONDS * 1000) {
        throw new ApiError(409, 'invalid_state', `Check-in opens ${CHECK_IN_OPENS_SECONDS / 3600} hours before the visit.`);
      }
      await update(row, (h) => h.signal(checkInSignal, { by: c.get('caller').id }));
      return c.json({ id: row.id, accepted: true as const }, 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'post', path: '/appointments/{id}/complete', summary: 'The doctor closes the visit before its slot ends, optionally with the diagnosis (a signal to the process)',
      description: 'Optional JSON body `{ "diagnosisCode": "J06.9" }`: an ICD-10 code from the Ministry of Health list, stored on the visit and in the record '
        + 'before the process is told; monitoring then records whether the visit\'s latest diagnosis suggestion had it first or among three.',
      security: [{ bearer: [] }], middleware: [clinicians] as const,
      // The body is optional and read by the handler: declared here, an empty body sent as JSON would be refused as malformed.
      request: { params: z.object({ id: Uuid }) },
      responses: {
        202: json(z.object({ id: Uuid, accepted: z.literal(true), diagnosis: z.object({ code: z.string(), title: z.string() }).nullable() }), 'Completion recorded; the process marks the visit fulfilled'),
        400: errorResponse('Malformed id or body (validation_failed / malformed_json)'),
        401: errorResponse('No or invalid token'), 403: errorResponse('Not a doctor or admin, or another doctor\'s visit'), 404: errorResponse('appointment_not_found'),
        409: errorResponse('invalid_state: only a visit whose patient has arrived can be completed'),
        422: errorResponse('invalid_icd10: the code is not in the ICD-10 list'),
      },
    }),
    async (c) => {
      const diagnosisCode = await optionalDiagnosisCode(c.req);
      const row = await ownAppointment(c, c.req.valid('param').id);
      const caller = c.get('caller');
      if (row.status !== 'arrived') throw new ApiError(409, 'invalid_state', `Only a visit whose patient has arrived can be completed; this one is ${row.status}.`);
      const diagnosis = diagnosisCode === undefined ? null : icd10Lookup(diagnosisCode) ?? null;
      if (diagnosisCode !== undefined && !diagnosis) throw new ApiError(422, 'invalid_icd10', 'diagnosisCode must be a code of the ICD-10 list, such as J06 or J06.9.');
      // Stored before the process is told, so a completed visit never lacks its diagnosis; a retry replaces it.
      if (diagnosis) await recordVisitDiagnosis(db, row, { ...diagnosis, recordedBy: caller.id });
      await update(row, (h) => h.signal(visitCompletedSignal, { by: caller.id }));
      return c.json({ id: row.id, accepted: true as const, diagnosis }, 202);
    },
  );
}
