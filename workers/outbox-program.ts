/**
 * The outbox relay's rollout program handler: a `start` row carries the program's input as the
 * command committed it (its pilots, its clinics, the very policy) and starts
 * `rolloutProgramWorkflow` from it, eagerly. A second start (a redelivered row, a relay killed
 * after its start) finds the program and is done.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { RolloutInput } from '../domain/rollout';
import { outboxDelivered } from '../platform/metrics';
import { rolloutProgramWorkflow } from '../workflows/rollout';
import { processStatusKey } from '../workflows/search-attributes';
import type { OutboxHandler, OutboxRow, RelayContext } from './outbox-handler';

export function programOutboxHandler(ctx: RelayContext): OutboxHandler<void> {
  const { client, taskQueue, logger, stats } = ctx;

  async function start(row: OutboxRow): Promise<void> {
    const input = row.payload.input as RolloutInput | undefined;
    if (!input) {
      logger.warn({ kind: row.kind }, 'rollout program start without its input: left done');
      return;
    }
    await ctx.pace();
    try {
      const handle = await client.workflow.start(rolloutProgramWorkflow, {
        workflowId: row.workflow_id,
        taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        requestEagerStart: true,
        typedSearchAttributes: [{ key: processStatusKey, value: 'pilots' }],
      });
      stats.started++;
      if (handle.eagerlyStarted) stats.eager++;
      outboxDelivered.inc({ outcome: handle.eagerlyStarted ? 'start_eager' : 'start' });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  return {
    async load() {},
    /** Only starts: pause, resume and add-clinic go to the running program from the API. */
    async deliver(rows) {
      for (const row of rows) {
        if (row.kind === 'start') await start(row);
        else logger.warn({ kind: row.kind }, 'rollout program outbox row of an unknown kind: left done');
      }
      return undefined;
    },
  };
}
