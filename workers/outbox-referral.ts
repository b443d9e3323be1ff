/**
 * The outbox relay's referral handler: a `start` row carries the process's input as the command
 * committed it (the deadline and the very policy it was computed with), and starts
 * `referralWorkflow` from it, eagerly. A second start (a redelivered row, or the worker's
 * startOpenReferrals sweep having got there first) finds the process and is done.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { ReferralInput } from '../domain/referral';
import { outboxDelivered } from '../platform/metrics';
import { referralWorkflow } from '../workflows/referral';
import { clinicIdKey, patientIdKey, processStatusKey } from '../workflows/search-attributes';
import type { OutboxHandler, OutboxRow, RelayContext } from './outbox-handler';

export function referralOutboxHandler(ctx: RelayContext): OutboxHandler<void> {
  const { client, taskQueue, logger, stats } = ctx;

  async function start(row: OutboxRow): Promise<void> {
    const input = row.payload.input as ReferralInput | undefined;
    if (!input) {
      logger.warn({ kind: row.kind }, 'referral start without its input: left done');
      return;
    }
    await ctx.pace();
    try {
      const handle = await client.workflow.start(referralWorkflow, {
        workflowId: row.workflow_id,
        taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        requestEagerStart: true,
        typedSearchAttributes: [
          { key: clinicIdKey, value: input.clinicId },
          { key: patientIdKey, value: input.patientId },
          { key: processStatusKey, value: 'created' },
        ],
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
    /** Only starts so far: every later step of a referral is an Update to its process. */
    async deliver(rows) {
      for (const row of rows) {
        if (row.kind === 'start') await start(row);
        else logger.warn({ kind: row.kind }, 'referral outbox row of an unknown kind: left done');
      }
      return undefined;
    },
  };
}
