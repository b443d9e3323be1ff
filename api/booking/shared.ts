/** What the booking routes share: schemas, presentation and the per-API context. */
import { z } from '@hono/zod-openapi';
import type { WorkflowHandle } from '@temporalio/client';
import type { Context } from 'hono';
import { appointmentView } from '../../db/booking';
import { lookupNames } from '../../db/names';
import { type AppointmentView } from '../../domain/booking';
import { fhirAppointmentStatus } from '../../domain/fhir';
import { localDateTime } from '../../domain/time';
import type { Appointment } from '../../db/schema';
import { type ApiDeps, type AppEnv } from '../router';
import { requireRole, type Caller } from '../auth';
import { canActOnAppointment } from '../access';
import { ApiError, errorResponse, sendToProcess } from '../errors';
import { MoreField } from '../paging';

export const Uuid = z.string().uuid();
export const LocalDate = z
  .string()
  .regex(/^(19|2\d)\d{2}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD between 1900 and 2999')
  .refine(
    (d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    'is not a calendar date',
  );
export const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{8,128}$/, 'Idempotency-Key must be 8–128 letters, digits or _.:-')
    .openapi({ param: { name: 'idempotency-key', in: 'header' }, example: 'b3c1f7a2-booking-1' }),
});

export const AppointmentSchema = z
  .object({
    id: Uuid,
    status: z.string(),
    fhirStatus: z.string(),
    slotId: Uuid,
    patientId: Uuid,
    practitionerId: Uuid,
    clinicId: Uuid,
    startsAt: z.string().datetime(),
    endsAt: z.string().datetime(),
    localStart: z.string().openapi({ example: '2026-11-25T09:00' }),
    timeZone: z.string(),
    startsAtLocal: z
      .string()
      .openapi({ description: "The same as localStart: the start on the clinic's clock", example: '2026-11-25T09:00' }),
    endsAtLocal: z.string().openapi({ description: "The end on the clinic's clock", example: '2026-11-25T09:20' }),
    holdExpiresAt: z.string().datetime().nullable(),
    clinicName: z.string().optional().openapi({ description: 'In lists and single reads' }),
    practitionerName: z.string().optional().openapi({ description: 'In lists and single reads' }),
    specialty: z.string().optional().openapi({ description: "The practitioner's specialty; in lists and single reads" }),
    patientName: z
      .string()
      .nullable()
      .optional()
      .openapi({ description: "In lists and single reads (the caller may read this patient's appointments)" }),
  })
  .openapi('Appointment');
export const AppointmentListSchema = z.object({ appointments: z.array(AppointmentSchema), more: MoreField }).openapi('AppointmentList');
export const SlotSchema = z
  .object({
    id: Uuid,
    startsAt: z.string().datetime(),
    endsAt: z.string().datetime(),
    localStart: z.string().openapi({ example: '2026-11-25T09:00' }),
    timeZone: z.string(),
    startsAtLocal: z
      .string()
      .openapi({ description: "The same as localStart: the start on the clinic's clock", example: '2026-11-25T09:00' }),
    practitionerId: Uuid,
    practitionerName: z.string(),
    specialty: z.string(),
    clinicId: Uuid,
    clinicName: z.string(),
  })
  .openapi('Slot');
export const LeaveSchema = z
  .object({
    id: Uuid,
    practitionerId: Uuid,
    startsOn: z.string(),
    endsOn: z.string(),
    reason: z.string(),
    slotsClosed: z.number().int().openapi({ description: 'Free slots closed by this request' }),
    appointmentsToMove: z
      .array(AppointmentSchema)
      .openapi({ description: 'Live appointments on those dates: the registrar moves or cancels them' }),
  })
  .openapi('Leave');
export const WaitlistSchema = z
  .object({
    id: Uuid,
    patientId: Uuid,
    specialty: z.string(),
    practitionerId: Uuid.nullable(),
    clinicId: Uuid.nullable(),
    wantedBefore: z.string().datetime(),
    status: z.string(),
  })
  .openapi('WaitlistEntry');

/** The appointment as the API shows it: instants, plus the start on the clinic's own clock. */
export const toApi = (v: AppointmentView, timeZone: string) => {
  const localStart = localDateTime(v.startsAt, timeZone);
  return {
    id: v.appointmentId,
    status: v.status,
    fhirStatus: fhirAppointmentStatus(v.status),
    slotId: v.slotId,
    patientId: v.patientId,
    practitionerId: v.practitionerId,
    clinicId: v.clinicId,
    startsAt: v.startsAt,
    endsAt: v.endsAt,
    localStart,
    timeZone,
    startsAtLocal: localStart,
    endsAtLocal: localDateTime(v.endsAt, timeZone),
    holdExpiresAt: v.holdExpiresAt,
  };
};

export const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
export const body = <T extends z.ZodTypeAny>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
export const AUTH_ERRORS = { 401: errorResponse('No or invalid token'), 403: errorResponse('Role not allowed, or not your record') };

/** A patient may act only for themselves. */
export function assertOwnPatient(caller: Caller, patientId: string) {
  if (caller.role === 'patient' && caller.patientId !== patientId)
    throw new ApiError(403, 'forbidden', 'Patients can act only on their own records.');
}

/** How long an Update waits for the relay to start an appointment's process before answering 503. */
const PROCESS_START_WAIT_MS = 10_000;

/** What the booking routes share: role gates and helpers bound to this API's dependencies. */
export function bookingContext(deps: ApiDeps) {
  const { db, temporal, config, logger } = deps;
  const anyone = requireRole(config, 'patient', 'registrar', 'doctor', 'admin');
  const bookers = requireRole(config, 'patient', 'registrar', 'admin');
  const desk = requireRole(config, 'registrar', 'admin');
  const staff = requireRole(config, 'registrar', 'doctor', 'admin');
  const clinicians = requireRole(config, 'doctor', 'admin');

  /** The appointment's row, checked against the caller. */
  async function ownAppointment(c: Context<AppEnv>, id: string, action: 'read' | 'write' = 'write'): Promise<Appointment> {
    const row = await db.selectFrom('appointments').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new ApiError(404, 'appointment_not_found', `Appointment ${id} does not exist.`);
    await canActOnAppointment(c, db, row, action);
    return row;
  }

  /**
   * An appointment answered before its process started: the clinical worker's outbox relay starts it
   * (normally within milliseconds of the commit), so an Update waits for the relay's stamp, a while.
   */
  async function ensureProcess(row: Appointment): Promise<void> {
    if (row.process_started_at !== null) return;
    const deadline = Date.now() + PROCESS_START_WAIT_MS;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      const now = await db.selectFrom('appointments').select('process_started_at').where('id', '=', row.id).executeTakeFirst();
      if (now?.process_started_at) return;
    }
    throw new ApiError(503, 'unavailable', "The appointment's process is starting; try again in a moment.");
  }

  /** Sends an Update to the appointment's process; an ended process means the appointment can no longer change. */
  const update = async <T>(row: Appointment, send: (handle: WorkflowHandle) => Promise<T>): Promise<T> => {
    await ensureProcess(row);
    return sendToProcess(temporal, row, 'appointment', send);
  };

  // A clinic's zone is set when it joins; remembered per process so answers cost no extra query.
  const zones = new Map<string, string>();
  /** `knownZone`: the clinic's zone read with the slot, so a winner's answer needs no connection after its commit. */
  async function present(v: AppointmentView, knownZone?: string) {
    if (knownZone) zones.set(v.clinicId, knownZone);
    let zone = zones.get(v.clinicId);
    if (!zone) {
      zone = (await db.selectFrom('clinics').select('time_zone').where('id', '=', v.clinicId).executeTakeFirstOrThrow()).time_zone;
      zones.set(v.clinicId, zone);
    }
    return toApi(v, zone);
  }
  /** Appointments for a list or a read, with the names of their clinic, practitioner and patient (one query per kind). */
  async function presentRows(rows: Appointment[]) {
    const [names, specialties] = await Promise.all([
      lookupNames(db, { clinics: rows.map((r) => r.clinic_id), patients: rows.map((r) => r.patient_id) }),
      rows.length
        ? db
            .selectFrom('practitioners')
            .select(['id', 'full_name', 'specialty'])
            .where('id', 'in', [...new Set(rows.map((r) => r.practitioner_id))])
            .execute()
        : [],
    ]);
    const practitioners = new Map(specialties.map((p) => [p.id, p]));
    return rows.map((row) => {
      const clinic = names.clinic(row.clinic_id);
      const p = practitioners.get(row.practitioner_id);
      return {
        ...toApi(appointmentView(row), clinic?.timeZone ?? 'UTC'),
        clinicName: clinic?.name ?? '',
        practitionerName: p?.full_name ?? '',
        specialty: p?.specialty ?? '',
        patientName: names.patient(row.patient_id),
      };
    });
  }

  /** The process of a referral awaiting booking that this slot serves (same patient, its specialty or named practitioner). */
  async function referralFor(referralId: string, patientId: string, slot: { practitioner_id: string; specialty: string }): Promise<string> {
    const r = await db
      .selectFrom('referrals')
      .select(['patient_id', 'status', 'specialty', 'target_practitioner_id', 'workflow_id'])
      .where('id', '=', referralId)
      .executeTakeFirst();
    if (!r) throw new ApiError(404, 'referral_not_found', `Referral ${referralId} does not exist.`);
    if (r.patient_id !== patientId) throw new ApiError(422, 'wrong_patient', 'The referral is for another patient.');
    if (r.status !== 'offered' && r.status !== 'created')
      throw new ApiError(409, 'invalid_state', `The referral is ${r.status}; it is not awaiting a booking.`);
    if (r.target_practitioner_id ? r.target_practitioner_id !== slot.practitioner_id : r.specialty !== slot.specialty) {
      throw new ApiError(422, 'wrong_practitioner', 'That slot is not with the practitioner or specialty the referral names.');
    }
    return r.workflow_id;
  }
  const ACTION_RESPONSES = {
    200: json(AppointmentSchema, 'The appointment after the change'),
    400: errorResponse('Malformed request'),
    ...AUTH_ERRORS,
    404: errorResponse('appointment_not_found'),
    409: errorResponse('invalid_state (including: the visit has started) / slot_taken / patient_busy / idempotency_key_reused'),
    422: errorResponse('slot_in_past / beyond_booking_horizon / too_many_bookings / other_clinic'),
    503: errorResponse("unavailable: the database stayed busy past the step's deadline; nothing changed, try again"),
  };
  const IdParam = z.object({ id: Uuid });
  return {
    db,
    temporal,
    config,
    logger,
    ensureProcess,
    anyone,
    bookers,
    desk,
    staff,
    clinicians,
    ownAppointment,
    update,
    present,
    presentRows,
    referralFor,
    ACTION_RESPONSES,
    IdParam,
  };
}

export type BookingContext = ReturnType<typeof bookingContext>;
