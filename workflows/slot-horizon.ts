/**
 * Slot upkeep on Temporal Schedules: slots generated ahead daily, so the booking horizon never
 * runs dry on a system that is never restarted; and holds whose process is gone released, so no
 * slot stays held after its hold lapsed.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { createSlotHorizonActivities } from '../activities/slot-horizon';

const { extendSlotHorizon, releaseLapsedHolds } = proxyActivities<ReturnType<typeof createSlotHorizonActivities>>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5 },
});

export const SLOT_HORIZON_SCHEDULE_ID = 'slot-horizon-daily';
export const LAPSED_HOLDS_SCHEDULE_ID = 'lapsed-holds-sweep';

/** Generates slots from every schedule for the next `days` local days; returns how many were new. */
export async function slotHorizonWorkflow(input: { days: number }): Promise<{ slotsAdded: number }> {
  return extendSlotHorizon(input);
}

/**
 * Expires holds and offers more than `overdueSeconds` past their expiry. A live booking process
 * expires its own hold on time; one this late means the process was terminated or is stuck.
 */
export async function lapsedHoldsWorkflow(input: { overdueSeconds: number }): Promise<{ released: number }> {
  return releaseLapsedHolds(input);
}
