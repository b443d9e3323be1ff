/**
 * The booking commands a caller runs, shared by the JSON routes (api/booking/*) and the pages
 * (web/): book a slot, confirm, cancel, reschedule, join the waitlist, check in, complete a visit, a practitioner's day list. Each checks
 * access with the caller on the Hono context, calls a command (commands/booking.ts: the rows and the outbox row in one
 * transaction) or an Update where the answer must come from the process, and answers the appointment as the API shows it.
 */
import type { Context } from 'hono';
import { createBookingCommands } from '../../commands/booking';
import { practitionerDay, recordLeave, slotForBooking } from '../../db/booking';
import { nameUuid } from '../../domain/ids';
import { bookingWorkflowId, cancelUpdate, rescheduleUpdate } from '../../workflows/booking';
import type { AppEnv } from '../router';
import { assertActInClinic, auditAccess, canActForPractitioner, canBookFor } from '../access';
import { ApiError, fromRefusal } from '../errors';
import { icd10Lookup } from '../icd10';
import { assertOwnPatient, type BookingContext } from './shared';

export interface BookInput {
  slotId: string;
  patientId: string;
  referralId?: string;
  confirm?: boolean;
  key: string;
}
export interface WaitlistInput {
  patientId: string;
  specialty: string;
  practitionerId?: string;
  clinicId?: string;
  wantedBefore: string;
}

export function bookingCommands(ctx: BookingContext) {
  const { db, config, ownAppointment, update, present, referralFor } = ctx;
  const booking = createBookingCommands({ db, taskQueue: config.CLINICAL_TASK_QUEUE });

  /** Holds a slot for the patient until confirmed (or books it at once with `confirm`). Idempotent per caller and key. */
  async function book(c: Context<AppEnv>, { slotId, patientId, referralId, confirm, key }: BookInput) {
    const caller = c.get('caller');
    assertOwnPatient(caller, patientId);
    // The same caller and key always name the same appointment, hence the same process.
    const appointmentId = nameUuid('booking', `${caller.id}:${key}`);
    // One read: the slot, whether it is taken, whether this key's appointment exists, the clinic's policy.
    const slot = await slotForBooking(db, slotId, appointmentId);
    if (!slot) throw new ApiError(404, 'slot_not_found', `Slot ${slotId} does not exist.`);
    await canBookFor(c, db, patientId, slot.clinic_id, { type: 'Appointment', id: appointmentId });
    // The losers of a race for a slot hear it from the slot's first read (no lock), unless it is their own retry;
    // those who read before the winner's commit are refused by the slot's lock in the command (never queued).
    if (slot.taken && !slot.mine) throw new ApiError(409, 'slot_taken', 'the slot is already booked');
    const { policy } = slot;
    const referralWorkflowId = referralId ? await referralFor(referralId, patientId, slot) : undefined;
    // One transaction: the appointment and its process's start (the relay starts it); a refusal leaves neither.
    const { view } = await booking
      .book({
        appointmentId,
        workflowId: bookingWorkflowId(appointmentId),
        patientId,
        slotId,
        bookedBy: caller.id,
        policy,
        confirm: confirm === true,
        referralWorkflowId,
      })
      .catch((err) => fromRefusal(err));
    // The key names an earlier request; a different slot or patient under it is a client bug.
    if (view.slotId !== slotId || view.patientId !== patientId) {
      throw new ApiError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used for a different booking; use a new key.');
    }
    return present(view, slot.time_zone);
  }

  /** Confirms a held or offered appointment: Postgres decides, the process hears of it through the outbox. */
  async function confirm(c: Context<AppEnv>, appointmentId: string) {
    const row = await ownAppointment(c, appointmentId);
    const view = await booking
      .confirm({ appointmentId: row.id, workflowId: row.workflow_id, by: c.get('caller').id })
      .catch((err) => fromRefusal(err));
    return present(view);
  }

  /** The registrar checks the patient in (from two hours before the visit); the process marks the patient arrived. */
  async function checkIn(c: Context<AppEnv>, appointmentId: string) {
    const row = await ownAppointment(c, appointmentId);
    await booking.checkIn(row, c.get('caller').id).catch((err) => fromRefusal(err));
    return { id: row.id, accepted: true as const };
  }

  /** Cancels before the visit (an Update to the process); the slot is offered to the waitlist. */
  async function cancel(c: Context<AppEnv>, appointmentId: string, reason: string) {
    const row = await ownAppointment(c, appointmentId);
    const view = await update(row, (h) => h.executeUpdate(cancelUpdate, { args: [{ by: c.get('caller').id, reason }] }));
    return present(view);
  }

  /** Moves to another slot of the same clinic; the old one is freed only once the new one is held. */
  async function reschedule(c: Context<AppEnv>, appointmentId: string, slotId: string, key: string) {
    const row = await ownAppointment(c, appointmentId);
    const view = await update(row, (h) =>
      h.executeUpdate(rescheduleUpdate, {
        args: [{ slotId, by: c.get('caller').id }],
        updateId: `reschedule:${c.get('caller').id}:${key}`,
      }),
    );
    // (The update id is the caller's: another caller's key never answers for this one.)
    // A key's first move is answered again for the same key; naming another slot with it is a mistake, not a move.
    if (view.slotId !== slotId)
      throw new ApiError(
        409,
        'idempotency_key_reused',
        'This Idempotency-Key was already used to move this appointment to another slot; use a new key.',
      );
    return present(view);
  }

  /** Puts the patient on the waitlist for an earlier slot (idempotent per caller and key). */
  async function joinWaitlist(c: Context<AppEnv>, w: WaitlistInput, key: string) {
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
    const id = nameUuid('waitlist', `${caller.id}:${key}`);
    const e = await booking
      .joinWaitlist({
        id,
        patientId: w.patientId,
        specialty: w.specialty,
        practitionerId: w.practitionerId ?? null,
        clinicId: w.clinicId ?? null,
        wantedBefore: w.wantedBefore,
        by: caller.id,
      })
      .catch((err) => fromRefusal(err));
    // A key names one entry: another patient or wish under it is a client bug, and never answered with the first entry.
    if (e.patient_id !== w.patientId || e.specialty !== w.specialty) {
      throw new ApiError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used for another waitlist entry; use a new key.');
    }
    await auditAccess(c, db, { patientId: e.patient_id, resource: { type: 'WaitlistEntry', id: e.id }, action: 'write' });
    return {
      id: e.id,
      patientId: e.patient_id,
      specialty: e.specialty,
      practitionerId: e.practitioner_id,
      clinicId: e.clinic_id,
      wantedBefore: e.wanted_before.toISOString(),
      status: e.status,
    };
  }

  /**
   * The doctor closes an arrived visit, optionally with its ICD-10 diagnosis (validated against the list), stored on
   * the visit and in the record before the process is told, so a completed visit never lacks it; a retry replaces it.
   */
  async function completeVisit(c: Context<AppEnv>, appointmentId: string, diagnosisCode: string | undefined) {
    const caller = c.get('caller');
    if (caller.role !== 'doctor' && caller.role !== 'admin')
      throw new ApiError(403, 'forbidden', 'Only doctors and admins complete visits.');
    const row = await ownAppointment(c, appointmentId);
    const diagnosis = diagnosisCode === undefined ? null : (icd10Lookup(diagnosisCode) ?? null);
    if (row.status === 'arrived' && diagnosisCode !== undefined && !diagnosis) {
      throw new ApiError(422, 'invalid_icd10', 'diagnosisCode must be a code of the ICD-10 list, such as J06 or J06.9.');
    }
    await booking.completeVisit(row, caller.id, diagnosis).catch((err) => fromRefusal(err));
    return { id: row.id, accepted: true as const, diagnosis };
  }

  /** A practitioner's day list on one local date: doctors their own, registrars and admins as the calendar allows. */
  async function practitionerDayList(c: Context<AppEnv>, practitionerId: string, date: string) {
    const caller = c.get('caller');
    if (caller.role === 'doctor' && caller.practitionerId !== practitionerId)
      throw new ApiError(403, 'forbidden', 'Doctors see their own day list.');
    await canActForPractitioner(c, db, practitionerId);
    return practitionerDay(db, practitionerId, date);
  }

  /** Leave on the clinic's local dates: closes those free slots and answers the live visits to move (the same dates again: the same record). */
  async function practitionerLeave(
    c: Context<AppEnv>,
    practitionerId: string,
    leave: { startsOn: string; endsOn: string; reason: string },
  ) {
    const { startsOn, endsOn, reason } = leave;
    if (endsOn < startsOn) throw new ApiError(400, 'validation_failed', '`endsOn` is before `startsOn`.');
    if (Date.parse(endsOn) - Date.parse(startsOn) > 366 * 86_400_000)
      throw new ApiError(400, 'validation_failed', 'Leave spans at most a year at a time.');
    if (!(await db.selectFrom('practitioners').select('id').where('id', '=', practitionerId).executeTakeFirst())) {
      throw new ApiError(404, 'practitioner_not_found', `Practitioner ${practitionerId} does not exist.`);
    }
    await canActForPractitioner(c, db, practitionerId);
    return recordLeave(db, { practitionerId, startsOn, endsOn, reason, by: c.get('caller').id });
  }

  return { book, confirm, cancel, reschedule, joinWaitlist, checkIn, completeVisit, practitionerDayList, practitionerLeave };
}

export type BookingCommands = ReturnType<typeof bookingCommands>;
