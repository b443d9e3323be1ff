/** Side effects of the self-test workflow. */
import type { Db } from '../db';
import { activityTransaction } from './tx';

export function createSelfTestActivities(deps: { db: Db }) {
  return {
    /**
     * Writes the self-test into the audit log once per workflow run, however often it is retried:
     * insert-only (the audit log is append-only), a retry reads the first row back.
     */
    async recordSelfTest(input: { workflowId: string; requestedBy: string; modelIds: string[] }): Promise<{ auditId: string }> {
      const dedupeKey = `self-test:${input.workflowId}`;
      return activityTransaction(deps.db, async (tx) => {
        const inserted = await tx
          .insertInto('audit_log')
          .values({
            actor: input.requestedBy,
            action: 'self-test',
            entity: 'system',
            entity_id: 'engine',
            workflow_id: input.workflowId,
            dedupe_key: dedupeKey,
            details: JSON.stringify({ models: input.modelIds }),
          })
          .onConflict((oc) => oc.column('dedupe_key').doNothing())
          .returning('id')
          .executeTakeFirst();
        const row =
          inserted ?? (await tx.selectFrom('audit_log').select('id').where('dedupe_key', '=', dedupeKey).executeTakeFirstOrThrow());
        return { auditId: String(row.id) };
      });
    },
  };
}
