/** Bench-only workflow (its own bundle, never in the engine's): one scoreModel call on a given queue. */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { createCdsActivities, ScoreModelInput } from '../activities/cds';

export async function benchScoreWorkflow(input: { taskQueue: string; request: ScoreModelInput }): Promise<number> {
  const { scoreModel } = proxyActivities<ReturnType<typeof createCdsActivities>>({
    taskQueue: input.taskQueue,
    startToCloseTimeout: '10s',
  });
  return (await scoreModel(input.request)).score;
}

/** Bench-only: the least a booking process costs Temporal — started, one task, one long timer (as a booked one waits for its reminder). */
export async function benchFloorWorkflow(): Promise<void> {
  await sleep('30 days');
}
