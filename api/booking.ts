/**
 * Booking routes: search slots, book (update-with-start, idempotent per Idempotency-Key),
 * confirm, cancel, reschedule, check in, the waitlist, and the lists patients and doctors read.
 * Access is decided in api/access.ts: patients their own records, registrars their clinic(s),
 * doctors the patients they care for.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Context } from 'hono';
import { appointmentView, bookableSlot, bookingPolicy, patientAppointments, practitionerDay, recordLeave, searchFreeSlots } from '../db/booking';
import { CHECK_IN_OPENS_SECONDS, type AppointmentView } from '../domain/booking';
import { fhirAppointmentStatus } from '../domain/fhir';
import { nameUuid } from '../domain/ids';
import { BOOKABLE_STAGES } from '../domain/onboarding';
import { localDateTime } from '../domain/time';
import type { Appointment } from '../db/schema';
import {
  bookingStatusQuery, bookingWorkflow, bookingWorkflowId, cancelUpdate, checkInSignal, confirmUpdate, holdSlotUpdate, rescheduleUpdate, visitCompletedSignal,
} from '../workflows/booking';
import { clinicIdKey, patientIdKey, processStatusKey } from '../workflows/search-attributes';
import { newRouter, type ApiDeps, type AppEnv } from './router';
import { requireRole, type Caller } from './auth';
import { canActForPractitioner, canActOnAppointment, canBookFor, canReadPatientRecord, assertActInClinic } from './access';
import { ApiError, errorResponse, fromProcessFailure, type FailureMap } from './errors';

const BOOKING_FAILURES: FailureMap = {
  SlotNotFound: [404, 'slot_not_found'],
  PatientNotFound: [404, 'patient_not_found'],
  SlotUnavailable: [409, 'slot_unavailable'],
  SlotInPast: [422, 'slot_in_past'],
  BeyondHorizon: [422, 'beyond_booking_horizon'],
  SlotTaken: [409, 'slot_taken'],
  PatientBusy: [409, 'patient_busy'],
  TooManyBookings: [422, 'too_many_bookings'],
  InvalidState: [409, 'invalid_state'],
  OtherClinic: [422, 'other_clinic'],
  ClinicNotLive: [409, 'clinic_not_live'],
  Busy: [503, 'unavailable'],
};

const Uuid = z.string().uuid();
const LocalDate = z.string().regex(/^(19|2\d)\d{2}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD between 1900 and 2999').refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'is not a calendar date');
const IdempotencyHeader = z.object({
  'idempotency-key': z.string().regex(/^[A-Za-z0-9_.:-]{8,128}$/, 'Idempotency-Key must be 8–128 letters, digits or _.:-').openapi({ param: { name: 'idempotency-key', in: 'header' }, example: 'b3c1f7a2-booking-1' }),
});

const AppointmentSchema = z
  .object({
    id: Uuid, status: z.string(), fhirStatus: z.string(), slotId: Uuid, patientId: Uuid, practitionerId: Uuid, clinicId: Uuid,
    startsAt: z.string().datetime(), endsAt: z.string().datetime(), localStart: z.string().openapi({ example: '2026-11-25T09:00' }), timeZone: z.string(),
    holdExpiresAt: z.string().datetime().nullable(),
  })
  .openapi('Appointment');
const AppointmentListSchema = z.object({ appointments: z.array(AppointmentSchema) }).openapi('AppointmentList');
const SlotSchema = z
  .object({
    id: Uuid, startsAt: z.string().datetime(), endsAt: z.string().datetime(), localStart: z.string().openapi({ example: '2026-11-25T09:00' }), timeZone: z.string(),
    practitionerId: Uuid, practitionerName: z.string(), specialty: z.string(), clinicId: Uuid, clinicName: z.string(),
  })
  .openapi('Slot');
const LeaveSchema = z
  .object({
    id: Uuid, practitionerId: Uuid, startsOn: z.string(), endsOn: z.string(), reason: z.string(),
    slotsClosed: z.number().int().openapi({ description: 'Free slots closed by this request' }),
    appointmentsToMove: z.array(AppointmentSchema).openapi({ description: 'Live appointments on those dates: the registrar moves or cancels them' }),
  })
  .openapi('Leave');
const WaitlistSchema = z
  .object({ id: Uuid, patientId: Uuid, specialty: z.string(), practitionerId: Uuid.nullable(), clinicId: Uuid.nullable(), wantedBefore: z.string().datetime(), status: z.string() })
  .openapi('WaitlistEntry');

/** The appointment as the API shows it: instants, plus the start on the clinic's own clock. */
const toApi = (v: AppointmentView, timeZone: string) => ({
  id: v.appointmentId, status: v.status, fhirStatus: fhirAppointmentStatus(v.status), slotId: v.slotId, patientId: v.patientId,
  practitionerId: v.practitionerId, clinicId: v.clinicId, startsAt: v.startsAt, endsAt: v.endsAt,
  localStart: localDateTime(v.startsAt, timeZone), timeZone, holdExpiresAt: v.holdExpiresAt,
});

const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const body = <T extends z.ZodTypeAny>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
const AUTH_ERRORS = { 401: errorResponse('No or invalid token'), 403: errorResponse('Role not allowed, or not your record') };

/** A patient may act only for themselves. */
function assertOwnPatient(caller: Caller, patientId: string) {
  if (caller.role === 'patient' && caller.patientId !== patientId) throw new ApiError(403, 'forbidden', 'Patients can act only on their own records.');
}

export function bookingRouter(deps: ApiDeps) {
  const { db, temporal, config } = deps;
  const anyone = requireRole(config.AUTH_SECRET, 'patient', 'registrar', 'doctor', 'admin');
  const bookers = requireRole(config.AUTH_SECRET, 'patient', 'registrar', 'admin');
  const desk = requireRole(config.AUTH_SECRET, 'registrar', 'admin');
  const staff = requireRole(config.AUTH_SECRET, 'registrar', 'doctor', 'admin');
  const clinicians = requireRole(config.AUTH_SECRET, 'doctor', 'admin');

  /** The appointment's row, checked against the caller. */
  async function ownAppointment(c: Context<AppEnv>, id: string, action: 'read' | 'write' = 'write'): Promise<Appointment> {
    const row = await db.selectFrom('appointments').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new ApiError(404, 'appointment_not_found', `Appointment ${id} does not exist.`);
    await canActOnAppointment(c, db, row, action);
    return row;
  }

  /** Sends an Update to the appointment's process; an ended process means the appointment can no longer change. */
  async function update<T>(row: Appointment, send: (handle: ReturnType<typeof temporal.workflow.getHandle>) => Promise<T>): Promise<T> {
    try {
      return await send(temporal.workflow.getHandle(row.workflow_id));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ApiError(409, 'invalid_state', `The appointment is ${row.status}; it can no longer change.`);
      return fromProcessFailure(err, BOOKING_FAILURES);
    }
  }

  // A clinic's zone is set when it joins; remembered per process so answers cost no extra query.
  const zones = new Map<string, string>();
  async function present(v: AppointmentView) {
    let zone = zones.get(v.clinicId);
    if (!zone) {
      zone = (await db.selectFrom('clinics').select('time_zone').where('id', '=', v.clinicId).executeTakeFirstOrThrow()).time_zone;
      zones.set(v.clinicId, zone);
    }
    return toApi(v, zone);
  }
  const presentRows = (rows: Appointment[]) => Promise.all(rows.map((row) => present(appointmentView(row))));

  /** The process of a referral awaiting booking that this slot serves (same patient, its specialty or named practitioner). */
  async function referralFor(referralId: string, patientId: string, slot: { practitioner_id: string; specialty: string }): Promise<string> {
    const r = await db.selectFrom('referrals').select(['patient_id', 'status', 'specialty', 'target_practitioner_id', 'workflow_id']).where('id', '=', referralId).executeTakeFirst();
    if (!r) throw new ApiError(404, 'referral_not_found', `Referral ${referralId} does not exist.`);
    if (r.patient_id !== patientId) throw new ApiError(422, 'wrong_patient', 'The referral is for another patient.');
    if (r.status !== 'offered' && r.status !== 'created') throw new ApiError(409, 'invalid_state', `The referral is ${r.status}; it is not awaiting a booking.`);
    if (r.target_practitioner_id ? r.target_practitioner_id !== slot.practitioner_id : r.specialty !== slot.specialty) {
      throw new ApiError(422, 'wrong_practitioner', 'That slot is not with the practitioner or specialty the referral names.');
    }
    return r.workflow_id;
  }

  const router = newRouter();

  router.openapi(
    createRoute({
      method: 'get', path: '/slots', summary: 'Free slots between two of the clinic\'s local dates', security: [{ bearer: [] }], middleware: [anyone] as const,
      request: {
        query: z.object({
          from: LocalDate, to: LocalDate, specialty: z.string().min(1).optional(), practitionerId: Uuid.optional(), clinicId: Uuid.optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
      },
      responses: { 200: json(z.object({ slots: z.array(SlotSchema) }), 'Free slots, earliest first'), 400: errorResponse('Malformed dates or ids'), ...AUTH_ERRORS },
    }),
    async (c) => {
      const q = c.req.valid('query');
      if (q.to < q.from) throw new ApiError(400, 'validation_failed', '`to` is before `from`.');
      if (Date.parse(q.to) - Date.parse(q.from) > 62 * 86_400_000) throw new ApiError(400, 'validation_failed', 'Search at most 62 days at a time.');
      const rows = await searchFreeSlots(db, q);
      return c.json({
        slots: rows.map((r) => ({
          id: r.id, startsAt: r.starts_at.toISOString(), endsAt: r.ends_at.toISOString(), localStart: r.local_start, timeZone: r.time_zone,
          practitionerId: r.practitioner_id, practitionerName: r.practitioner_name, specialty: r.specialty, clinicId: r.clinic_id, clinicName: r.clinic_name,
        })),
      }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post', path: '/appointments', summary: 'Book a slot: holds it for the patient until confirmed (hold duration per clinic policy)',
      security: [{ bearer: [] }], middleware: [bookers] as const,
      request: { headers: IdempotencyHeader, ...body(z.strictObject({ slotId: Uuid, patientId: Uuid, referralId: Uuid.optional().openapi({ description: 'The referral this visit serves: its process adopts the booking' }) })) },
      responses: {
        201: json(AppointmentSchema, 'The slot is held; confirm it before holdExpiresAt'),
        400: errorResponse('Malformed request'), ...AUTH_ERRORS,
        404: errorResponse('slot_not_found / patient_not_found / referral_not_found'),
        409: errorResponse('slot_taken / patient_busy / slot_unavailable / idempotency_key_reused / clinic_not_live / invalid_state (the referral is not awaiting a booking)'),
        422: errorResponse('slot_in_past / beyond_booking_horizon / too_many_bookings / wrong_patient / wrong_practitioner (the slot does not serve the referral)'),
        503: errorResponse('unavailable: the slot stayed locked past the step\'s deadline; nothing was held, try again'),
      },
    }),
    async (c) => {
      const { slotId, patientId, referralId } = c.req.valid('json');
      const key = c.req.valid('header')['idempotency-key'];
      const caller = c.get('caller');
      assertOwnPatient(caller, patientId);
      // Early, friendly refusals; the activity checks again inside its transaction.
      const slot = await bookableSlot(db, slotId);
      if (!slot) throw new ApiError(404, 'slot_not_found', `Slot ${slotId} does not exist.`);
      await canBookFor(c, db, patientId, slot.clinic_id, { type: 'Appointment', id: nameUuid('booking', `${caller.id}:${key}`) });
      if (!BOOKABLE_STAGES.includes(slot.rollout_stage)) throw new ApiError(409, 'clinic_not_live', `This clinic is in its ${slot.rollout_stage} stage: it takes bookings from its pilot on.`, { stage: slot.rollout_stage });
      const policy = await bookingPolicy(db, slot.clinic_id);
      if (slot.starts_at.getTime() <= Date.now()) throw new ApiError(422, 'slot_in_past', 'That slot has already started.');
      if (slot.starts_at.getTime() > Date.now() + policy.horizonDays * 86_400_000) {
        throw new ApiError(422, 'beyond_booking_horizon', `Bookings open ${policy.horizonDays} days ahead at this clinic.`);
      }
      const patient = await db.selectFrom('patients').select('id').where('id', '=', patientId).executeTakeFirst();
      if (!patient) throw new ApiError(404, 'patient_not_found', `Patient ${patientId} does not exist.`);
      const referralWorkflowId = referralId ? await referralFor(referralId, patientId, slot) : undefined;

      // The same caller and key always name the same appointment, hence the same workflow.
      const appointmentId = nameUuid('booking', `${caller.id}:${key}`);
      const workflowId = bookingWorkflowId(appointmentId);
      try {
        const view = await temporal.workflow.executeUpdateWithStart(holdSlotUpdate, {
          args: [{ slotId, bookedBy: caller.id }],
          updateId: 'hold',
          startWorkflowOperation: new WithStartWorkflowOperation(bookingWorkflow, {
            workflowId, taskQueue: config.CLINICAL_TASK_QUEUE, args: [{ appointmentId, patientId, clinicId: slot.clinic_id, policy, ...(referralWorkflowId ? { referralWorkflowId } : {}) }],
            workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'REJECT_DUPLICATE',
            typedSearchAttributes: [{ key: clinicIdKey, value: slot.clinic_id }, { key: patientIdKey, value: patientId }, { key: processStatusKey, value: 'new' }],
          }),
        });
        // The key names an earlier request; a different slot or patient under it is a client bug.
        if (view.slotId !== slotId || view.patientId !== patientId) {
          throw new ApiError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used for a different booking; use a new key.');
        }
        return c.json(await present(view), 201);
      } catch (err) {
        if (err instanceof ApiError) throw err;
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          // The process for this key has ended: answer with what it left, never book again.
          const row = await db.selectFrom('appointments').selectAll().where('id', '=', appointmentId).executeTakeFirst();
          if (row && row.slot_id === slotId && row.patient_id === patientId) return c.json(await present(appointmentView(row)), 201);
          throw new ApiError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used for a request that ended; use a new key.');
        }
        return fromProcessFailure(err, BOOKING_FAILURES);
      }
    },
  );

  const ACTION_RESPONSES = {
    200: json(AppointmentSchema, 'The appointment after the change'), 400: errorResponse('Malformed request'), ...AUTH_ERRORS,
    404: errorResponse('appointment_not_found'), 409: errorResponse('invalid_state (including: the visit has started) / slot_taken / patient_busy / idempotency_key_reused'),
    422: errorResponse('slot_in_past / beyond_booking_horizon / too_many_bookings / other_clinic'),
    503: errorResponse('unavailable: the database stayed busy past the step\'s deadline; nothing changed, try again'),
  };
  const IdParam = z.object({ id: Uuid });

  router.openapi(createRoute({ method: 'post', path: '/appointments/{id}/confirm', summary: 'Confirm a held or offered appointment', security: [{ bearer: [] }], middleware: [bookers] as const, request: { params: IdParam }, responses: ACTION_RESPONSES }), async (c) => {
    const row = await ownAppointment(c, c.req.valid('param').id);
    const view = await update(row, (h) => h.executeUpdate(confirmUpdate, { args: [{ by: c.get('caller').id }] }));
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
      const view = await update(row, (h) => h.executeUpdate(rescheduleUpdate, { args: [{ slotId, by: c.get('caller').id }], updateId: `reschedule:${key}` }));
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
      method: 'post', path: '/appointments/{id}/complete', summary: 'The doctor closes the visit before its slot ends (a signal to the process)',
      security: [{ bearer: [] }], middleware: [clinicians] as const, request: { params: z.object({ id: Uuid }) },
      responses: {
        202: json(z.object({ id: Uuid, accepted: z.literal(true) }), 'Completion recorded; the process marks the visit fulfilled'), 400: errorResponse('Malformed id'),
        401: errorResponse('No or invalid token'), 403: errorResponse('Not a doctor or admin, or another doctor\'s visit'), 404: errorResponse('appointment_not_found'),
        409: errorResponse('invalid_state: only a visit whose patient has arrived can be completed'),
      },
    }),
    async (c) => {
      const row = await ownAppointment(c, c.req.valid('param').id);
      const caller = c.get('caller');
      if (row.status !== 'arrived') throw new ApiError(409, 'invalid_state', `Only a visit whose patient has arrived can be completed; this one is ${row.status}.`);
      await update(row, (h) => h.signal(visitCompletedSignal, { by: caller.id }));
      return c.json({ id: row.id, accepted: true as const }, 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'get', path: '/appointments/{id}', summary: 'One appointment, with where its process is', security: [{ bearer: [] }], middleware: [anyone] as const,
      request: { params: z.object({ id: Uuid }) },
      responses: { 200: json(AppointmentSchema.extend({ process: z.object({ status: z.string(), reminderSent: z.boolean() }).nullable() }), 'The appointment'), 400: errorResponse('Malformed id'), ...AUTH_ERRORS, 404: errorResponse('appointment_not_found') },
    }),
    async (c) => {
      const row = await ownAppointment(c, c.req.valid('param').id, 'read');
      const state = await temporal.workflow.getHandle(row.workflow_id).query(bookingStatusQuery).catch(() => null);
      return c.json({ ...(await present(appointmentView(row))), process: state ? { status: state.status, reminderSent: state.reminderSent } : null }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get', path: '/patients/{id}/appointments', summary: 'A patient\'s appointments, newest first', security: [{ bearer: [] }], middleware: [anyone] as const,
      request: { params: z.object({ id: Uuid }) },
      responses: { 200: json(AppointmentListSchema, 'Appointments'), 400: errorResponse('Malformed id'), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await canReadPatientRecord(c, db, id, { type: 'AppointmentList', id });
      return c.json({ appointments: await presentRows(await patientAppointments(db, id)) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get', path: '/practitioners/{id}/day', summary: 'A practitioner\'s appointments on one local date of their clinic', security: [{ bearer: [] }], middleware: [staff] as const,
      request: { params: z.object({ id: Uuid }), query: z.object({ date: LocalDate }) },
      responses: { 200: json(AppointmentListSchema, 'The day list, in time order'), 400: errorResponse('Malformed id or date'), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const caller = c.get('caller');
      if (caller.role === 'doctor' && caller.practitionerId !== id) throw new ApiError(403, 'forbidden', 'Doctors see their own day list.');
      await canActForPractitioner(c, db, id);
      return c.json({ appointments: await presentRows(await practitionerDay(db, id, c.req.valid('query').date)) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post', path: '/practitioners/{id}/leave', summary: 'Record leave on the clinic\'s local dates: closes those slots and lists the visits to move',
      security: [{ bearer: [] }], middleware: [desk] as const,
      request: { params: z.strictObject({ id: Uuid }), ...body(z.strictObject({ startsOn: LocalDate, endsOn: LocalDate, reason: z.string().min(1).max(200) })) },
      responses: {
        201: json(LeaveSchema, 'Leave recorded (the same dates again answer with the same record)'), 400: errorResponse('Malformed request, or endsOn before startsOn'),
        ...AUTH_ERRORS, 404: errorResponse('practitioner_not_found'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { startsOn, endsOn, reason } = c.req.valid('json');
      if (endsOn < startsOn) throw new ApiError(400, 'validation_failed', '`endsOn` is before `startsOn`.');
      if (Date.parse(endsOn) - Date.parse(startsOn) > 366 * 86_400_000) throw new ApiError(400, 'validation_failed', 'Leave spans at most a year at a time.');
      if (!(await db.selectFrom('practitioners').select('id').where('id', '=', id).executeTakeFirst())) throw new ApiError(404, 'practitioner_not_found', `Practitioner ${id} does not exist.`);
      await canActForPractitioner(c, db, id);
      const { leave, slotsClosed, affected } = await recordLeave(db, { practitionerId: id, startsOn, endsOn, reason, by: c.get('caller').id });
      return c.json({ id: leave.id, practitionerId: id, startsOn: leave.starts_on, endsOn: leave.ends_on, reason: leave.reason, slotsClosed, appointmentsToMove: await presentRows(affected) }, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'post', path: '/waitlist', summary: 'Wait for an earlier slot with a practitioner or specialty', security: [{ bearer: [] }], middleware: [bookers] as const,
      request: {
        headers: IdempotencyHeader,
        ...body(z.strictObject({ patientId: Uuid, specialty: z.string().min(1), practitionerId: Uuid.optional(), clinicId: Uuid.optional(), wantedBefore: z.string().datetime({ offset: true }) })),
      },
      responses: { 201: json(WaitlistSchema, 'On the waitlist'), 400: errorResponse('Malformed request'), ...AUTH_ERRORS, 404: errorResponse('patient_not_found / practitioner_not_found / clinic_not_found') },
    }),
    async (c) => {
      const w = c.req.valid('json');
      const caller = c.get('caller');
      assertOwnPatient(caller, w.patientId);
      const patient = await db.selectFrom('patients').select('id').where('id', '=', w.patientId).executeTakeFirst();
      if (!patient) throw new ApiError(404, 'patient_not_found', `Patient ${w.patientId} does not exist.`);
      if (w.practitionerId && !(await db.selectFrom('practitioners').select('id').where('id', '=', w.practitionerId).executeTakeFirst())) {
        throw new ApiError(404, 'practitioner_not_found', `Practitioner ${w.practitionerId} does not exist.`);
      }
      if (w.clinicId && !(await db.selectFrom('clinics').select('id').where('id', '=', w.clinicId).executeTakeFirst())) {
        throw new ApiError(404, 'clinic_not_found', `Clinic ${w.clinicId} does not exist.`);
      }
      if (caller.role === 'registrar' && w.clinicId) assertActInClinic(caller, w.clinicId, 'that clinic');
      if (caller.role === 'registrar' && w.practitionerId) await canActForPractitioner(c, db, w.practitionerId);
      const id = nameUuid('waitlist', `${caller.id}:${c.req.valid('header')['idempotency-key']}`);
      await db.insertInto('waitlist_entries').values({
        id, patient_id: w.patientId, specialty: w.specialty, practitioner_id: w.practitionerId ?? null, clinic_id: w.clinicId ?? null,
        wanted_before: w.wantedBefore, status: 'waiting', offered_appointment_id: null, created_by: caller.id,
      }).onConflict((oc) => oc.column('id').doNothing()).execute();
      const e = await db.selectFrom('waitlist_entries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return c.json({ id: e.id, patientId: e.patient_id, specialty: e.specialty, practitionerId: e.practitioner_id, clinicId: e.clinic_id, wantedBefore: e.wanted_before.toISOString(), status: e.status }, 201);
    },
  );

  return router;
}
