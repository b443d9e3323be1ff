/**
 * Referral creation as one command: the referral, its `created` event and the outbox row that
 * starts its process (with the process's input) commit in one transaction. The API validates,
 * checks access, calls this and answers from what committed; the clinical worker's relay
 * (workers/outbox-referral.ts) starts the process.
 */
import type { Insertable } from 'kysely';
import type { Db } from '../db';
import type { Referral, ReferralEventsTable, ReferralsTable } from '../db/schema';
import type { ReferralInput } from '../domain/referral';
import { tell } from './outbox';
import { commandTransaction } from './tx';

export interface CreateReferralCommand {
  referral: Insertable<ReferralsTable> & { id: string; workflow_id: string };
  created: Insertable<ReferralEventsTable>;
  /** What the process starts with: the very policy and deadline the row was written with. */
  input: ReferralInput;
  taskQueue: string;
}

/**
 * Writes the referral, its created event and its process's start once. The same id again (a
 * retried request) writes nothing and answers the row the first call committed (`created` false).
 */
export async function createReferral(db: Db, cmd: CreateReferralCommand): Promise<{ row: Referral; created: boolean }> {
  return commandTransaction(db, async (tx) => {
    const inserted = await tx
      .insertInto('referrals')
      .values(cmd.referral)
      // No target: the same request side by side meets the first one's row in the id index or in the
      // workflow_id one (both come from the key); either way it is that referral, not an error.
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) {
      await tx
        .insertInto('referral_events')
        .values(cmd.created)
        .onConflict((oc) => oc.column('dedupe_key').doNothing())
        .execute();
      await tell(tx, {
        taskQueue: cmd.taskQueue,
        workflowId: cmd.referral.workflow_id,
        process: 'referral',
        kind: 'start',
        subjectId: cmd.referral.id,
        payload: { input: cmd.input },
      });
    }
    const row = await tx.selectFrom('referrals').selectAll().where('id', '=', cmd.referral.id).executeTakeFirstOrThrow();
    return { row, created: inserted !== undefined };
  });
}
