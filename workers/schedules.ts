/**
 * Recurring work as Temporal Schedules, made current (created or updated) when a clinical worker starts.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { LAPSED_HOLDS_SCHEDULE_ID, lapsedHoldsWorkflow, SLOT_HORIZON_SCHEDULE_ID, slotHorizonWorkflow } from '../workflows/slot-horizon';

export const SLOT_HORIZON_DAYS = 60;

/** The daily slot-horizon schedule: 01:00 UTC = 04:00 in the demo city, before clinics open. */
export function slotHorizonSchedule(taskQueue: string, scheduleId = SLOT_HORIZON_SCHEDULE_ID): ScheduleOptions {
  return {
    scheduleId,
    spec: { cronExpressions: ['0 1 * * *'] },
    action: {
      type: 'startWorkflow',
      workflowType: slotHorizonWorkflow,
      workflowId: scheduleId,
      taskQueue,
      args: [{ days: SLOT_HORIZON_DAYS }],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  };
}

/** Every 5 minutes, holds more than 5 minutes past their expiry are released. */
export function lapsedHoldsSchedule(taskQueue: string, scheduleId = LAPSED_HOLDS_SCHEDULE_ID): ScheduleOptions {
  return {
    scheduleId,
    spec: { intervals: [{ every: '5 minutes' }] },
    action: {
      type: 'startWorkflow',
      workflowType: lapsedHoldsWorkflow,
      workflowId: scheduleId,
      taskQueue,
      args: [{ overdueSeconds: 300 }],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
  };
}

/** Creates the schedule, or brings an existing one up to date. Returns true when it created it. */
export async function ensureSchedule(client: Client, options: ScheduleOptions): Promise<boolean> {
  try {
    await client.schedule.create(options);
    return true;
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule
      .getHandle(options.scheduleId)
      .update((previous) => ({ ...previous, spec: options.spec, action: options.action as never, policies: options.policies }));
    return false;
  }
}
