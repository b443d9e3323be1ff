/**
 * Keeps bookable slots generated ahead of time: a Temporal Schedule runs this daily, so the
 * booking horizon never runs dry on a system that is never restarted.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { createSlotHorizonActivities } from '../activities/slot-horizon';

const { extendSlotHorizon } = proxyActivities<ReturnType<typeof createSlotHorizonActivities>>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5 },
});

export const SLOT_HORIZON_SCHEDULE_ID = 'slot-horizon-daily';

/** Generates slots from every schedule for the next `days` local days; returns how many were new. */
export async function slotHorizonWorkflow(input: { days: number }): Promise<{ slotsAdded: number }> {
  return extendSlotHorizon(input);
}
