/** Slot generation for the daily slot-horizon schedule. */
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
  };
}
