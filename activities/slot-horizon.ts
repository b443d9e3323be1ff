/** Side effects of slot upkeep: slot generation and the release of lapsed holds. */
import { sql } from 'kysely';
import type { Db } from '../db';
import { generateSlots } from '../db/booking';
import { addDays } from '../db/seed';

export function createSlotHorizonActivities(deps: { db: Db }) {
  return {
    /**
     * Generates slots for [today, today + days) in every clinic's zone. Existing slots are kept
     * (ON CONFLICT DO NOTHING), so a retry or a second run adds nothing.
     */
    async extendSlotHorizon(input: { days: number }): Promise<{ slotsAdded: number }> {
      // From yesterday in UTC, so every zone's local "today" is covered.
      const from = addDays(new Date().toISOString().slice(0, 10), -1);
      return { slotsAdded: await generateSlots(deps.db, from, addDays(from, input.days + 1)) };
    },

    /** held/offered rows overdue by more than overdueSeconds → expired, with an audit row each. */
    async releaseLapsedHolds(input: { overdueSeconds: number }): Promise<{ released: number }> {
      return deps.db.transaction().execute(async (tx) => {
        const released = await tx
          .updateTable('appointments')
          .set({ status: 'expired', hold_expires_at: null, updated_at: sql`now()` })
          .where('status', 'in', ['held', 'offered'])
          .where('hold_expires_at', '<', sql<Date>`now() - make_interval(secs => ${input.overdueSeconds})`)
          .returning(['id', 'workflow_id'])
          .execute();
        if (released.length) {
          await tx.insertInto('audit_log').values(released.map((r) => ({
            actor: 'system', action: 'expired-by-sweep', entity: 'appointment', entity_id: r.id, workflow_id: r.workflow_id, dedupe_key: `${r.workflow_id}:expired-by-sweep`,
          }))).onConflict((oc) => oc.column('dedupe_key').doNothing()).execute();
          await tx.updateTable('waitlist_entries').set({ status: 'waiting', offered_appointment_id: null })
            .where('offered_appointment_id', 'in', released.map((r) => r.id)).where('status', '=', 'offered').execute();
        }
        return { released: released.length };
      });
    },
  };
}
