/**
 * The rule every process shares: what Postgres says is open runs in Temporal, and what runs in
 * Temporal is open in Postgres. Listings find the candidates; describe() confirms each one, so a
 * workflow that visibility has not caught up with is never reported.
 */
import { sql, type RawBuilder } from 'kysely';
import { mapLimit } from './temporal';
import { isSettled, type Ctx, type RuleResult, type Violation } from './types';

export interface ProcessRow {
  id: string;
  workflowId: string;
  status: string;
  open: boolean;
  clinicId: string;
  /** When the row last changed (its process's last recorded step). */
  changedAt: Date;
}

export interface ProcessSpec {
  /** The process slug: rule names are `<slug>-open-not-running` and `<slug>-running-not-open`. */
  slug: string;
  workflowType: string;
  /** The key of the row's id in a violation's ids (appointmentId, referralId, …). */
  idName: string;
  /** Rows Postgres says are open, in the check's clinic scope. */
  openRows(ctx: Ctx): Promise<ProcessRow[]>;
  /** The rows of these workflows, open or not, in any clinic. */
  rowsByWorkflowId(ctx: Ctx, workflowIds: string[]): Promise<ProcessRow[]>;
}

const DESCRIBE_LANES = 16;

export async function compareProcesses(ctx: Ctx, spec: ProcessSpec): Promise<RuleResult[]> {
  const [open, running] = await Promise.all([spec.openRows(ctx), ctx.temporalView.running(spec.workflowType)]);
  const ids = (id: string, workflowId: string) => ({ [spec.idName]: id, workflowId });

  // Open in Postgres, not in the running listing: confirmed with describe().
  const notListed = open.filter((r) => !running.has(r.workflowId) && isSettled(ctx, r.changedAt));
  const openNotRunning: Violation[] = [];
  await mapLimit(notListed, DESCRIBE_LANES, async (row) => {
    const d = await ctx.temporalView.describe(row.workflowId);
    if (d?.status === 'RUNNING') return;
    openNotRunning.push({
      rule: `${spec.slug}-open-not-running`, ids: ids(row.id, row.workflowId),
      message: `${spec.slug} ${row.id} is ${row.status} in Postgres but its workflow is ${d ? d.status.toLowerCase() : 'missing'}`,
    });
  });

  // Running in Temporal, not open in Postgres.
  const openIds = new Set(open.map((r) => r.workflowId));
  const candidates = [...running.values()].filter((w) => !openIds.has(w.workflowId) && w.startTime.getTime() < ctx.settledBefore.getTime());
  const rows = new Map<string, ProcessRow>();
  for (let i = 0; i < candidates.length; i += 1000) {
    for (const r of await spec.rowsByWorkflowId(ctx, candidates.slice(i, i + 1000).map((w) => w.workflowId))) rows.set(r.workflowId, r);
  }
  const runningNotOpen: Violation[] = [];
  const judged = candidates.filter((w) => {
    const row = rows.get(w.workflowId);
    // Scoped to clinics: a row elsewhere is not ours; a missing row is judged only on our own task queue.
    if (ctx.clinicIds && (row ? !ctx.clinicIds.includes(row.clinicId) : !ctx.taskQueue)) return false;
    return !row || (!row.open && isSettled(ctx, row.changedAt));
  });
  await mapLimit(judged, DESCRIBE_LANES, async (w) => {
    const d = await ctx.temporalView.describe(w.workflowId);
    if (d?.status !== 'RUNNING') return;
    const row = rows.get(w.workflowId);
    const id = row?.id ?? w.workflowId.slice(spec.slug.length + 1);
    runningNotOpen.push({
      rule: `${spec.slug}-running-not-open`, ids: ids(id, w.workflowId),
      message: row ? `the ${spec.slug} workflow runs but Postgres says ${row.id} is ${row.status}` : `the ${spec.slug} workflow runs but Postgres has no row for it`,
    });
  });

  return [
    { rule: `${spec.slug}-open-not-running`, checked: open.length, violations: openNotRunning },
    { rule: `${spec.slug}-running-not-open`, checked: running.size, violations: runningNotOpen },
  ];
}

/** `AND <column> = ANY(<clinic ids>)` when the check is scoped to clinics, else nothing. */
export function clinicScope(ctx: Ctx, column: string): RawBuilder<unknown> {
  return ctx.clinicIds ? sql`AND ${sql.ref(column)} = ANY(${sql.val(ctx.clinicIds)}::uuid[])` : sql``;
}
