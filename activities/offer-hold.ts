/**
 * A waitlist offer told in the morning (quiet hours, issue 23) keeps its hold as long as it would
 * have had: the booking process moves the hold's end later by the wait. Idempotent: the end is
 * set to an instant, never moved earlier, and only while the offer (or hold) is still open.
 */
import { sql } from 'kysely';
import type { Db } from '../db';
import { appointmentView } from '../db/booking';
import type { AppointmentView } from '../domain/booking';
import { activityTransaction } from './tx';

export function createOfferHoldActivities(deps: { db: Db }) {
  return {
    /** Moves the open hold's end to `until` (not earlier than it is); answers the appointment as it now stands. */
    async extendHold(input: { appointmentId: string; workflowId: string; until: string }): Promise<AppointmentView> {
      return activityTransaction(deps.db, async (tx) => {
        await tx
          .updateTable('appointments')
          .set({ hold_expires_at: sql<Date>`greatest(hold_expires_at, ${input.until}::timestamptz)`, updated_at: sql`now()` })
          .where('id', '=', input.appointmentId)
          .where('status', 'in', ['held', 'offered'])
          .where('hold_expires_at', 'is not', null)
          .execute();
        const row = await tx.selectFrom('appointments').selectAll().where('id', '=', input.appointmentId).executeTakeFirstOrThrow();
        return appointmentView(row);
      });
    },
  };
}
