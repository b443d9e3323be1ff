/**
 * Slot upkeep on Temporal Schedules: slots generated ahead daily, so the booking horizon never
 * runs dry on a system that is never restarted; and holds whose process is gone released, so no
 * slot stays held after its hold lapsed.
 */
import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createBookingActivities } from '../activities/booking';
import type { createSlotHorizonActivities } from '../activities/slot-horizon';
import { startOfferProcess } from './booking';

const { extendSlotHorizon, releaseLapsedHolds, clinicBookingPolicy } = proxyActivities<ReturnType<typeof createSlotHorizonActivities>>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5 },
});
const { offerFreedSlot } = proxyActivities<ReturnType<typeof createBookingActivities>>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 5 },
});

export const SLOT_HORIZON_SCHEDULE_ID = 'slot-horizon-daily';
export const LAPSED_HOLDS_SCHEDULE_ID = 'lapsed-holds-sweep';

/** Generates slots from every schedule for the next `days` local days; returns how many were new. */
export async function slotHorizonWorkflow(input: { days: number }): Promise<{ slotsAdded: number; slotsClosed?: number }> {
  return extendSlotHorizon(input);
}

/**
 * Expires holds and offers more than `overdueSeconds` past their expiry. A live booking process
 * expires its own hold on time; one this late means the process was terminated or is stuck.
 * Each slot it frees goes to the waitlist, as one its booking process had freed would.
 */
export async function lapsedHoldsWorkflow(input: { overdueSeconds: number }): Promise<{ released: number; offered?: number }> {
  const { released, freed } = await releaseLapsedHolds({ ...input, sweepId: workflowInfo().runId });
  if (!patched('offer-swept-slots')) return { released };
  let offered = 0;
  for (const f of freed) {
    const policy = await clinicBookingPolicy({ clinicId: f.clinicId });
    // Best effort, as in the booking process: a slot someone took meanwhile is simply gone.
    const offer = await offerFreedSlot({
      slotId: f.slotId,
      offerKey: `sweep:${f.appointmentId}`,
      excludePatientId: f.patientId,
      offerHoldSeconds: policy.offerHoldSeconds,
    }).catch(() => null);
    if (!offer) continue;
    await startOfferProcess(offer, policy);
    offered++;
  }
  return { released, offered };
}
