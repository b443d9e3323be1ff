/**
 * Onboarding invariants: a clinic whose onboarding started and is not live has its running
 * `onboarding-<clinicId>` process, and a running onboarding process has such a clinic.
 */
import { sql } from 'kysely';
import { onboardingWorkflowId } from '../../domain/onboarding';
import { onboardingWorkflow } from '../../workflows/onboarding';
import { clinicScope, compareProcesses, type ProcessRow, type ProcessSpec } from './processes';
import type { Ctx, RuleResult } from './types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Row {
  id: string;
  rollout_stage: string;
  changed_at: Date;
}
const toProcess = (r: Row): ProcessRow => ({
  id: r.id,
  workflowId: onboardingWorkflowId(r.id),
  status: r.rollout_stage,
  open: r.rollout_stage !== 'live',
  clinicId: r.id,
  changedAt: r.changed_at,
});

/** Clinics with an onboarding process (its start event), and when their onboarding last moved. */
const rowsWhere = (where: ReturnType<typeof sql>) => sql<Row>`
  SELECT c.id, c.rollout_stage, max(e.at) AS changed_at FROM clinics c JOIN onboarding_events e ON e.clinic_id = c.id
  WHERE ${where} GROUP BY c.id, c.rollout_stage`;

export const onboardingProcess: ProcessSpec = {
  slug: 'onboarding',
  workflowType: onboardingWorkflow.name,
  idName: 'clinicId',
  async openRows(ctx) {
    const { rows } = await rowsWhere(sql`c.rollout_stage <> 'live' ${clinicScope(ctx, 'c.id')}`).execute(ctx.db);
    return rows.map(toProcess);
  },
  async rowsByWorkflowId(ctx, workflowIds) {
    const ids = workflowIds.map((w) => w.replace(/^onboarding-/, '')).filter((id) => UUID.test(id));
    if (!ids.length) return [];
    const { rows } = await rowsWhere(sql`c.id = ANY(${ids}::uuid[])`).execute(ctx.db);
    return rows.map(toProcess);
  },
};

export async function onboardingRules(ctx: Ctx): Promise<RuleResult[]> {
  return compareProcesses(ctx, onboardingProcess);
}
