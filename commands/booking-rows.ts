/**
 * The booking's row writes inside a transaction the caller owns: the commands (the API's writes,
 * with their outbox row) and the booking activities (the process's writes) share them, so a hold
 * or a confirm is the same statement whoever makes it. The rules themselves are in domain/booking-rules.
 */
import { sql } from 'kysely';
import type { Db } from '../db';
import { appointmentView, lockPatient, tryLockSlotSql } from '../db/booking';
import type { Appointment } from '../db/schema';
import type { AppointmentView, BookingPolicy } from '../domain/booking';
import { slotRefusal, specialtyLimitRefusal, type BookingRefusal } from '../domain/booking-rules';
import { pgViolation, refuse } from '../platform/failures';
import { outboxValues, type Tell } from './outbox';
import type { Tx } from './tx';

export type { Tx };

/** A domain refusal as the typed failure the workflows and the API branch on. */
export function refusal(r: BookingRefusal): never {
  throw refuse(r.type, r.message, r.details);
}

/** Turns the database's double-booking guards into typed refusals. */
export function mapViolation(err: unknown): never {
  const v = pgViolation(err);
  if (v?.code === '23505' && v.constraint === 'appointments_slot_live_uniq') throw refuse('SlotTaken', 'the slot is already booked');
  if (v?.code === '23P01') throw refuse('PatientBusy', 'the patient has another appointment at that time');
  // The same appointment id for another patient at the same moment: one request key, two bookings.
  if (v?.code === '23505' && v.constraint === 'appointments_pkey')
    throw refuse('DuplicateRequest', 'this request key was used for another booking at the same time');
  throw err;
}

/**
 * Checks the clinic's rules for a new visit of this patient in this slot, in one statement: the slot, its
 * booking lock (tried, never waited for: another transaction booking it now is a SlotTaken refusal), the
 * patient's live visits in its specialty, and whether the patient exists (`patientExists`, for the caller).
 */
export async function checkBookingRules(tx: Tx, patientId: string, slotId: string, policy: BookingPolicy, ignoreAppointmentId?: string) {
  const now = Date.now();
  const slot = await tx
    .selectFrom('slots as s')
    .innerJoin('practitioners as p', 'p.id', 's.practitioner_id')
    .innerJoin('clinics as c', 'c.id', 's.clinic_id')
    .select(['s.id', 's.practitioner_id', 's.clinic_id', 's.starts_at', 's.ends_at', 's.status', 'p.specialty', 'c.rollout_stage'])
    .select((eb) => [
      tryLockSlotSql(slotId).as('lockedForUs'),
      eb
        .selectFrom('appointments as a')
        .innerJoin('practitioners as ap', 'ap.id', 'a.practitioner_id')
        .select((e) => e.fn.countAll<string>().as('n'))
        .where('a.patient_id', '=', patientId)
        .whereRef('ap.specialty', '=', 'p.specialty')
        .where('a.status', 'in', ['held', 'offered', 'booked'])
        .where('a.starts_at', '>', new Date(now))
        .$if(ignoreAppointmentId !== undefined, (q) => q.where('a.id', '!=', ignoreAppointmentId!))
        .as('active'),
      eb.exists(eb.selectFrom('patients as pt').select('pt.id').where('pt.id', '=', patientId)).as('patientExists'),
    ])
    .where('s.id', '=', slotId)
    .executeTakeFirst();
  if (!slot) throw refuse('SlotNotFound', `slot ${slotId} does not exist`);
  const bad = slotRefusal({ id: slot.id, status: slot.status, startsAt: slot.starts_at, rolloutStage: slot.rollout_stage }, now, policy);
  if (bad) refusal(bad);
  // Another transaction is booking (or moving into) this slot right now: it is taken, or about to be.
  if (!slot.lockedForUs) throw refuse('SlotTaken', 'the slot is already booked');
  const over = specialtyLimitRefusal(Number(slot.active ?? 0), policy);
  if (over) refusal(over);
  return slot;
}

export async function audit(tx: Tx | Db, workflowId: string, action: string, actor: string, appointmentId: string, details: object = {}) {
  await tx
    .insertInto('audit_log')
    .values({
      actor,
      action,
      entity: 'appointment',
      entity_id: appointmentId,
      workflow_id: workflowId,
      dedupe_key: `${workflowId}:${action}`,
      details: JSON.stringify(details),
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .execute();
}

export type HoldInput = {
  appointmentId: string;
  workflowId: string;
  patientId: string;
  slotId: string;
  bookedBy: string;
  policy: BookingPolicy;
  confirm?: boolean;
  /** Made by a command: the row stays unstamped until the outbox relay has started its process. */
  processPending?: boolean;
  /** The caller's transaction took the patient's lock already (a command, in its BEGIN: db/tx.ts advisoryLock). */
  patientLocked?: boolean;
};

/**
 * The hold (or, with `confirm`, the booking); `created` says whether this call made the appointment or found it made.
 * `tellToo`: the outbox row a command writes with a new appointment (in the same statement).
 */
export async function holdSlotTx(tx: Tx, input: HoldInput, tellToo?: Tell): Promise<{ view: AppointmentView; created: boolean }> {
  // One booking decision per patient at a time, so the per-specialty limit holds under races
  // (and the same request sent twice at once finds the first one's appointment).
  if (!input.patientLocked) await lockPatient(tx, input.patientId);
  const existing = await tx.selectFrom('appointments').selectAll().where('id', '=', input.appointmentId).executeTakeFirst();
  if (existing) return { view: appointmentView(existing), created: false };
  // The slot's rules first: a slot nobody may book is refused as such, whoever asks.
  const slot = await checkBookingRules(tx, input.patientId, input.slotId, input.policy);
  if (!slot.patientExists) throw refuse('PatientNotFound', `patient ${input.patientId} does not exist`);
  const auditRow = (action: string, details: object = {}) => ({
    actor: input.bookedBy,
    action,
    entity: 'appointment',
    entity_id: input.appointmentId,
    workflow_id: input.workflowId,
    dedupe_key: `${input.workflowId}:${action}`,
    details: JSON.stringify(details),
  });
  const audits = [auditRow('held', { slotId: slot.id }), ...(input.confirm ? [auditRow('booked')] : [])];
  // One statement: the appointment, its audit rows and (from a command) its outbox row; a violation writes none.
  const written = tx
    .with('held', (db) =>
      db
        .insertInto('appointments')
        .values({
          id: input.appointmentId,
          slot_id: slot.id,
          patient_id: input.patientId,
          practitioner_id: slot.practitioner_id,
          clinic_id: slot.clinic_id,
          starts_at: slot.starts_at,
          ends_at: slot.ends_at,
          status: input.confirm ? 'booked' : 'held',
          hold_expires_at: input.confirm ? null : sql<Date>`now() + make_interval(secs => ${input.policy.holdSeconds})`,
          workflow_id: input.workflowId,
          booked_by: input.bookedBy,
          cancel_reason: null,
          ...(input.processPending ? { process_started_at: null } : {}),
        })
        .returningAll(),
    )
    .with('audited', (db) =>
      db
        .insertInto('audit_log')
        .values(audits)
        .onConflict((oc) => oc.column('dedupe_key').doNothing())
        .returning('id'),
    );
  const row = await (
    tellToo
      ? written.with('told', (db) => db.insertInto('process_outbox').values(outboxValues(tellToo)).returning('id')).selectFrom('held')
      : written.selectFrom('held')
  )
    .selectAll()
    .executeTakeFirstOrThrow()
    .catch(mapViolation);
  return { view: appointmentView(row), created: true };
}

/**
 * Moves a held/offered/booked appointment to a new status; returns the row as it is now and whether
 * this call moved it. `then` runs in the same transaction when this call made the move.
 */
export async function transitionTx(
  tx: Tx,
  appointmentId: string,
  from: readonly string[],
  set: { status: AppointmentView['status']; cancel_reason?: string },
  workflowId: string,
  actor: string,
  only: { holdLive?: boolean; beforeStart?: boolean } = {},
  then?: (tx: Tx, row: Appointment) => Promise<unknown>,
): Promise<{ row: Appointment; moved: boolean }> {
  const row = await tx
    .updateTable('appointments')
    .set({ ...set, hold_expires_at: null, updated_at: sql`now()` })
    .where('id', '=', appointmentId)
    .where('status', 'in', from as never)
    .$if(only.holdLive === true, (q) => q.where('hold_expires_at', '>', sql<Date>`now()`))
    .$if(only.beforeStart === true, (q) => q.where('starts_at', '>', sql<Date>`now()`))
    .returningAll()
    .executeTakeFirst();
  if (row) await audit(tx, workflowId, set.status, actor, appointmentId);
  if (row && then) await then(tx, row);
  const current = row ?? (await tx.selectFrom('appointments').selectAll().where('id', '=', appointmentId).executeTakeFirst());
  if (!current) throw refuse('NotFound', `appointment ${appointmentId} does not exist`);
  return { row: current, moved: row !== undefined };
}

/** held/offered → booked. A lapsed hold cannot be confirmed, even if its process is late to expire it. */
export async function confirmTx(
  tx: Tx,
  input: { appointmentId: string; workflowId: string; by: string },
): Promise<{ view: AppointmentView; moved: boolean }> {
  const { row, moved } = await transitionTx(
    tx,
    input.appointmentId,
    ['held', 'offered'],
    { status: 'booked' },
    input.workflowId,
    input.by,
    { holdLive: true },
    (t) => t.updateTable('waitlist_entries').set({ status: 'booked' }).where('offered_appointment_id', '=', input.appointmentId).execute(),
  );
  if (row.status !== 'booked') throw refuse('InvalidState', `the appointment is ${row.status} and cannot be confirmed`);
  return { view: appointmentView(row), moved };
}
