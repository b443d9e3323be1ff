/**
 * Side effects of the booking workflow. Each runs in one transaction and is keyed by the
 * appointment id or the workflow id, so a retried activity never writes twice. Refusals
 * (slot taken, patient busy, rule broken) are non-retryable failures with their own type.
 */
import { sql, type Transaction } from 'kysely';
import type { Db } from '../db';
import { appointmentView, bookableSlot, LIVE_STATUSES, lockPatient } from '../db/booking';
import type { Appointment, Database } from '../db/schema';
import { bookingWorkflowId, type AppointmentView, type BookingPolicy } from '../domain/booking';
import { nameUuid } from '../domain/ids';
import { audit, checkBookingRules, confirmTx, holdSlotTx, mapViolation, transitionTx, type HoldInput } from '../commands/booking-rows';
import { refuse } from './errors';
import { activityTransaction } from './tx';

export type { HoldInput };

export function createBookingActivities(deps: { db: Db }) {
  const { db } = deps;

  /**
   * Moves a held/offered/booked appointment to a new status; returns the row as it is now.
   * `then` runs in the same transaction when this call made the move (waitlist, notifications).
   */
  async function transition(
    appointmentId: string,
    from: readonly string[],
    set: { status: AppointmentView['status']; cancel_reason?: string },
    workflowId: string,
    actor: string,
    only: { holdLive?: boolean; beforeStart?: boolean } = {},
    then?: (tx: Transaction<Database>, row: Appointment) => Promise<unknown>,
  ) {
    return activityTransaction(db, async (tx) => (await transitionTx(tx, appointmentId, from, set, workflowId, actor, only, then)).row);
  }

  /** holdSlot's transaction; `created` says whether this call made the appointment (or found it made by an earlier call with the same id). */
  async function holdSlotRow(input: HoldInput): Promise<{ view: AppointmentView; created: boolean }> {
    return activityTransaction(db, (tx) => holdSlotTx(tx, input));
  }

  return {
    holdSlotRow,
    /**
     * Takes the slot for the patient (status held, expiring per policy), or refuses with a typed
     * failure. With `confirm` (the registrar's one-call booking) the appointment is booked at once.
     * Called by the referral process (the API books through commands/booking.ts).
     */
    async holdSlot(input: HoldInput): Promise<AppointmentView> {
      return (await holdSlotRow(input)).view;
    },

    /** held/offered → booked. A lapsed hold cannot be confirmed, even if its process is late to expire it. */
    async confirmAppointment(input: { appointmentId: string; workflowId: string; by: string }): Promise<AppointmentView> {
      return (await activityTransaction(db, (tx) => confirmTx(tx, input))).view;
    },

    /** held/offered → expired when nobody confirmed in time; a lapsed offer puts the patient back on the waitlist. */
    async expireHold(input: { appointmentId: string; workflowId: string }): Promise<AppointmentView> {
      const row = await transition(input.appointmentId, ['held', 'offered'], { status: 'expired' }, input.workflowId, 'system', {}, (tx) =>
        tx
          .updateTable('waitlist_entries')
          .set({ status: 'waiting', offered_appointment_id: null })
          .where('offered_appointment_id', '=', input.appointmentId)
          .where('status', '=', 'offered')
          .execute(),
      );
      return appointmentView(row);
    },

    /** held/offered/booked → cancelled; the patient is told. */
    async cancelAppointment(input: { appointmentId: string; workflowId: string; by: string; reason: string }): Promise<AppointmentView> {
      const row = await transition(
        input.appointmentId,
        ['held', 'offered', 'booked'],
        { status: 'cancelled', cancel_reason: input.reason },
        input.workflowId,
        input.by,
        { beforeStart: true },
        async (tx, moved) => {
          await tx
            .updateTable('waitlist_entries')
            .set({ status: 'cancelled' })
            .where('offered_appointment_id', '=', input.appointmentId)
            .where('status', '=', 'offered')
            .execute();
          await tx
            .insertInto('notifications')
            .values({
              patient_id: moved.patient_id,
              appointment_id: moved.id,
              kind: 'cancelled',
              dedupe_key: `${input.workflowId}:cancelled`,
            })
            .onConflict((oc) => oc.column('dedupe_key').doNothing())
            .execute();
        },
      );
      if (row.status !== 'cancelled') {
        throw refuse(
          'InvalidState',
          row.starts_at.getTime() <= Date.now() && row.status === 'booked'
            ? 'the visit has started; it can no longer be cancelled'
            : `the appointment is ${row.status} and cannot be cancelled`,
        );
      }
      return appointmentView(row);
    },

    /**
     * Moves the appointment to another slot in one UPDATE: the new slot is taken and the old one
     * freed in the same statement, so a lost race leaves the patient their old slot.
     */
    async moveAppointment(input: {
      appointmentId: string;
      workflowId: string;
      newSlotId: string;
      by: string;
      policy: BookingPolicy;
      moveNumber: number;
    }): Promise<{ appointment: AppointmentView; freedSlotId: string | null }> {
      const dedupeKey = `${input.workflowId}:rescheduled:${input.moveNumber}`;
      return activityTransaction(db, async (tx) => {
        const current = await tx
          .selectFrom('appointments')
          .selectAll()
          .where('id', '=', input.appointmentId)
          .forUpdate()
          .executeTakeFirst();
        if (!current) throw refuse('NotFound', `appointment ${input.appointmentId} does not exist`);
        // A retry after the move committed finds it done; the audit row says which slot it freed.
        const done = await tx.selectFrom('audit_log').select('details').where('dedupe_key', '=', dedupeKey).executeTakeFirst();
        if (done)
          return { appointment: appointmentView(current), freedSlotId: (done.details as { fromSlotId?: string }).fromSlotId ?? null };
        if (current.slot_id === input.newSlotId) return { appointment: appointmentView(current), freedSlotId: null };
        if (!['held', 'offered', 'booked'].includes(current.status))
          throw refuse('InvalidState', `the appointment is ${current.status} and cannot be rescheduled`);
        if (current.starts_at.getTime() <= Date.now()) throw refuse('InvalidState', 'the visit has started; it can no longer be moved');
        await lockPatient(tx, current.patient_id);
        const slot = await checkBookingRules(tx, current.patient_id, input.newSlotId, input.policy, current.id);
        // The process runs on its clinic's policy and is filed under its clinic: moving elsewhere is a new booking there.
        if (slot.clinic_id !== current.clinic_id)
          throw refuse('OtherClinic', `slot ${slot.id} is in another clinic; cancel and book there`);
        const moved = await tx
          .updateTable('appointments')
          .set({
            slot_id: slot.id,
            practitioner_id: slot.practitioner_id,
            clinic_id: slot.clinic_id,
            starts_at: slot.starts_at,
            ends_at: slot.ends_at,
            updated_at: sql`now()`,
          })
          .where('id', '=', current.id)
          .returningAll()
          .executeTakeFirstOrThrow()
          .catch(mapViolation);
        await tx
          .insertInto('audit_log')
          .values({
            actor: input.by,
            action: 'rescheduled',
            entity: 'appointment',
            entity_id: current.id,
            workflow_id: input.workflowId,
            dedupe_key: dedupeKey,
            details: JSON.stringify({ fromSlotId: current.slot_id, toSlotId: slot.id }),
          })
          .onConflict((oc) => oc.column('dedupe_key').doNothing())
          .execute();
        await tx
          .insertInto('notifications')
          .values({ patient_id: current.patient_id, appointment_id: current.id, kind: 'rescheduled', dedupe_key: dedupeKey })
          .onConflict((oc) => oc.column('dedupe_key').doNothing())
          .execute();
        return { appointment: appointmentView(moved), freedSlotId: current.slot_id };
      });
    },

    /** Queues the reminder for the patient's app, once per visit time. */
    async sendReminder(input: { appointmentId: string; workflowId: string; patientId: string; startsAt: string }): Promise<void> {
      await activityTransaction(db, (tx) =>
        tx
          .insertInto('notifications')
          .values({
            patient_id: input.patientId,
            appointment_id: input.appointmentId,
            kind: 'reminder',
            dedupe_key: `${input.workflowId}:reminder:${input.startsAt}`,
          })
          .onConflict((oc) => oc.column('dedupe_key').doNothing())
          .execute(),
      );
    },

    /** booked → arrived: `by` is who checked the patient in (processes started before it was passed say 'registrar'). */
    async markArrived(input: { appointmentId: string; workflowId: string; by?: string }): Promise<AppointmentView> {
      return appointmentView(
        await transition(input.appointmentId, ['booked'], { status: 'arrived' }, input.workflowId, input.by ?? 'registrar'),
      );
    },

    /** booked → noshow when the grace period after the start passed without a check-in. */
    async markNoShow(input: { appointmentId: string; workflowId: string }): Promise<AppointmentView> {
      return appointmentView(await transition(input.appointmentId, ['booked'], { status: 'noshow' }, input.workflowId, 'system'));
    },

    /** arrived → fulfilled: by the doctor (`by`) who closed the visit, else by the system when the slot ends. */
    async completeVisit(input: { appointmentId: string; workflowId: string; by?: string }): Promise<AppointmentView> {
      return appointmentView(
        await transition(input.appointmentId, ['arrived'], { status: 'fulfilled' }, input.workflowId, input.by ?? 'system'),
      );
    },

    /**
     * Offers a freed slot to the first waiting patient whose wish it meets (same practitioner, or
     * same specialty and clinic if they named none; earlier than they wanted; free at that time).
     * The slot is held for them ('offered') in the same transaction. Returns null when nobody fits.
     */
    async offerFreedSlot(input: {
      slotId: string;
      offerKey: string;
      excludePatientId: string;
      offerHoldSeconds: number;
    }): Promise<AppointmentView | null> {
      const offerId = nameUuid('offer', input.offerKey);
      return activityTransaction(db, async (tx) => {
        // A retry after the offer committed returns it (its process is started from this answer).
        const already = await tx.selectFrom('appointments').selectAll().where('id', '=', offerId).executeTakeFirst();
        if (already) return already.status === 'offered' ? appointmentView(already) : null;
        const slot = await bookableSlot(tx, input.slotId);
        if (!slot || slot.taken || slot.status !== 'free' || slot.starts_at.getTime() <= Date.now()) return null;
        const entry = await tx
          .selectFrom('waitlist_entries as w')
          .select(['w.id', 'w.patient_id'])
          .where('w.status', '=', 'waiting')
          .where('w.patient_id', '!=', input.excludePatientId)
          .where('w.wanted_before', '>', slot.starts_at)
          .where((eb) =>
            eb.or([
              eb('w.practitioner_id', '=', slot.practitioner_id),
              eb.and([eb('w.practitioner_id', 'is', null), eb('w.specialty', '=', slot.specialty)]),
            ]),
          )
          .where((eb) => eb.or([eb('w.clinic_id', 'is', null), eb('w.clinic_id', '=', slot.clinic_id)]))
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('appointments as a')
                  .select('a.id')
                  .whereRef('a.patient_id', '=', 'w.patient_id')
                  .where('a.status', 'in', [...LIVE_STATUSES])
                  .where(sql<boolean>`tstzrange(a.starts_at, a.ends_at) && tstzrange(${slot.starts_at}, ${slot.ends_at})`),
              ),
            ),
          )
          .orderBy('w.created_at')
          .limit(1)
          .forUpdate()
          .skipLocked()
          .executeTakeFirst();
        if (!entry) return null;
        const row = await tx
          .insertInto('appointments')
          .values({
            id: offerId,
            slot_id: slot.id,
            patient_id: entry.patient_id,
            practitioner_id: slot.practitioner_id,
            clinic_id: slot.clinic_id,
            starts_at: slot.starts_at,
            ends_at: slot.ends_at,
            status: 'offered',
            hold_expires_at: sql<Date>`now() + make_interval(secs => ${input.offerHoldSeconds})`,
            workflow_id: bookingWorkflowId(offerId),
            booked_by: 'waitlist',
            cancel_reason: null,
          })
          .returningAll()
          .executeTakeFirstOrThrow()
          .catch(mapViolation);
        await tx
          .updateTable('waitlist_entries')
          .set({ status: 'offered', offered_appointment_id: offerId })
          .where('id', '=', entry.id)
          .execute();
        await tx
          .insertInto('notifications')
          .values({ patient_id: entry.patient_id, appointment_id: offerId, kind: 'waitlist-offer', dedupe_key: `offer:${offerId}` })
          .onConflict((oc) => oc.column('dedupe_key').doNothing())
          .execute();
        await audit(tx, bookingWorkflowId(offerId), 'offered', 'waitlist', offerId, { waitlistEntryId: entry.id, slotId: slot.id });
        return appointmentView(row);
      });
    },
  };
}
