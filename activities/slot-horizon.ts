/** Side effects of slot upkeep: slot generation and the release of lapsed holds. */
import { sql } from 'kysely';
import type { Db } from '../db';
import { bookingPolicy, closeSlotsOnLeave, generateSlots } from '../db/booking';
import { addDays } from '../domain/time';
import type { BookingPolicy } from '../domain/booking';
import { createLogger } from '../platform/logger';
import { activityTransaction } from './tx';

const log = createLogger('slot-horizon');

/** A slot the sweep freed, and whose hold it was (that patient is not offered it again). */
export interface FreedSlot {
  appointmentId: string;
  slotId: string;
  clinicId: string;
  patientId: string;
}

export function createSlotHorizonActivities(deps: { db: Db }) {
  return {
    /**
     * Generates slots for [today, today + days) in every clinic's zone and closes those on leave.
     * Existing slots are kept (ON CONFLICT DO NOTHING), so a retry or a second run adds nothing.
     * Slots that would overlap another of the practitioner's (overlapping schedules) are skipped,
     * counted and logged: the schedules need fixing, the job goes on.
     */
    async extendSlotHorizon(input: { days: number }): Promise<{ slotsAdded: number; slotsClosed: number; overlapsSkipped: number }> {
      // From yesterday in UTC, so every zone's local "today" is covered.
      const from = addDays(new Date().toISOString().slice(0, 10), -1);
      const generated = await activityTransaction(deps.db, (tx) => generateSlots(tx, from, addDays(from, input.days + 1)));
      if (generated.overlapsSkipped > 0)
        log.warn({ overlapsSkipped: generated.overlapsSkipped, from, days: input.days }, 'overlapping schedules: slots skipped');
      // Leave written straight into schedule_exceptions (not through the API) closes its slots here.
      const slotsClosed = await activityTransaction(deps.db, (tx) => closeSlotsOnLeave(tx));
      return { slotsAdded: generated.added, slotsClosed, overlapsSkipped: generated.overlapsSkipped };
    },

    /** The rules of one clinic, for the processes the sweep starts there. */
    async clinicBookingPolicy(input: { clinicId: string }): Promise<BookingPolicy> {
      return bookingPolicy(deps.db, input.clinicId);
    },

    /**
     * held/offered rows overdue by more than overdueSeconds → expired, with an audit row each.
     * Returns what it freed, so the slots can go to the waitlist; a retry of the same sweep after
     * its commit finds its audit rows and returns the same slots.
     */
    async releaseLapsedHolds(input: { overdueSeconds: number; sweepId?: string }): Promise<{ released: number; freed: FreedSlot[] }> {
      return activityTransaction(deps.db, async (tx) => {
        // The sweep's own rows, found by audit_log_sweep_idx (an expression index on this lookup).
        if (input.sweepId) {
          const done = await tx
            .selectFrom('audit_log')
            .select('details')
            .where('action', '=', 'expired-by-sweep')
            .where(sql<boolean>`details->>'sweepId' = ${input.sweepId}`)
            .execute();
          if (done.length) return { released: done.length, freed: done.map((d) => (d.details as { freed: FreedSlot }).freed) };
        }
        const released = await tx
          .updateTable('appointments')
          .set({ status: 'expired', hold_expires_at: null, updated_at: sql`now()` })
          .where('status', 'in', ['held', 'offered'])
          .where('hold_expires_at', '<', sql<Date>`now() - make_interval(secs => ${input.overdueSeconds})`)
          .returning(['id', 'workflow_id', 'slot_id', 'clinic_id', 'patient_id'])
          .execute();
        const freed: FreedSlot[] = released.map((r) => ({
          appointmentId: r.id,
          slotId: r.slot_id,
          clinicId: r.clinic_id,
          patientId: r.patient_id,
        }));
        if (released.length) {
          await tx
            .insertInto('audit_log')
            .values(
              released.map((r, i) => ({
                actor: 'system',
                action: 'expired-by-sweep',
                entity: 'appointment',
                entity_id: r.id,
                workflow_id: r.workflow_id,
                dedupe_key: `${r.workflow_id}:expired-by-sweep`,
                details: JSON.stringify({ sweepId: input.sweepId ?? null, freed: freed[i] }),
              })),
            )
            .onConflict((oc) => oc.column('dedupe_key').doNothing())
            .execute();
          await tx
            .updateTable('waitlist_entries')
            .set({ status: 'waiting', offered_appointment_id: null })
            .where(
              'offered_appointment_id',
              'in',
              released.map((r) => r.id),
            )
            .where('status', '=', 'offered')
            .execute();
        }
        return { released: released.length, freed };
      });
    },
  };
}
