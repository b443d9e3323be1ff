/**
 * Open referrals whose process never started (the demo seed's, or one written before referral
 * creation went through the outbox) get their process when a clinical worker starts; a referral
 * made by `POST /referrals` has its start in the outbox (docs/outbox.md). Idempotent: the workflow
 * id is the referral's, a running one is kept and an ended one is never run again.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Db } from '../db';
import { referralStart } from '../db/referral';
import { referralWorkflow } from '../workflows/referral';

/** Returns how many open referrals it saw (each now has its process). */
export async function startOpenReferrals(client: Client, db: Db, taskQueue: string): Promise<number> {
  const rows = await db
    .selectFrom('referrals')
    .selectAll()
    .where('status', 'in', ['created', 'offered'])
    .where('appointment_id', 'is', null)
    .orderBy('created_at')
    .limit(500)
    .execute();
  for (const row of rows) {
    try {
      await client.workflow.start(referralWorkflow, {
        workflowId: row.workflow_id,
        taskQueue,
        args: [await referralStart(db, row)],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  return rows.length;
}
