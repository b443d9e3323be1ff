/**
 * Counts process runs for the worker's /metrics: a workflow interceptor (bundled with every
 * workflow, see workers/clinical.ts bundleWorkflows) that reports a run's start and end through a
 * sink. Sinks are not called on replay, so a run is counted once, by the worker that ran it.
 */
import {
  ContinueAsNew,
  isCancellation,
  proxySinks,
  workflowInfo,
  type Sinks,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';

export type ProcessOutcome = 'completed' | 'failed' | 'cancelled' | 'continued_as_new';

export interface ProcessMetricsSinks extends Sinks {
  processMetrics: {
    started(): void;
    ended(outcome: ProcessOutcome): void;
  };
}

const { processMetrics } = proxySinks<ProcessMetricsSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        // A run continued from an earlier one is the same process: it was counted when it started.
        if (!workflowInfo().continuedFromExecutionRunId) processMetrics.started();
        try {
          const result = await next(input);
          processMetrics.ended('completed');
          return result;
        } catch (err) {
          processMetrics.ended(err instanceof ContinueAsNew ? 'continued_as_new' : isCancellation(err) ? 'cancelled' : 'failed');
          throw err;
        }
      },
    },
  ],
});
