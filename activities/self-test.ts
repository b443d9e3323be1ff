/** Side effects of the self-test workflow. */
import type { Db } from '../db';

export function createSelfTestActivities(deps: { db: Db }) {
  return {
    /** Writes the self-test into the audit log once per workflow run, however often it is retried. */
    async recordSelfTest(input: { workflowId: string; requestedBy: string; modelIds: string[] }): Promise<{ auditId: string }> {
      const row = await deps.db
        .insertInto('audit_log')
        .values({
          actor: input.requestedBy,
          action: 'self-test',
          entity: 'system',
          entity_id: 'engine',
          workflow_id: input.workflowId,
          dedupe_key: `self-test:${input.workflowId}`,
          details: JSON.stringify({ models: input.modelIds }),
        })
        .onConflict((oc) => oc.column('dedupe_key').doUpdateSet({ dedupe_key: (eb) => eb.ref('excluded.dedupe_key') }))
        .returning('id')
        .executeTakeFirstOrThrow();
      return { auditId: String(row.id) };
    },
  };
}
