/** Reads of the process outbox shared by the relay (workers/outbox-relay.ts) and the API. */
import type { Db } from './index';

/** Is the process's start still waiting in the outbox (not yet drained, or backing off)? */
export async function processStartPending(db: Db, workflowId: string): Promise<boolean> {
  const row = await db
    .selectFrom('process_outbox')
    .select('id')
    .where('workflow_id', '=', workflowId)
    .where('kind', '=', 'start')
    .where('done_at', 'is', null)
    .executeTakeFirst();
  return row !== undefined;
}
