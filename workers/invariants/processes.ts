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
  /**
   * A workflow with no row yet may be waiting for its first step (booking's hold, lab order's
   * registration come with the start; a start without them ends by itself after 5 minutes): such
   * a workflow is reported only once older than this (default: the settle time alone).
   */
  rowlessGraceMs?: number;
  /** The rows of these workflows, open or not, in any clinic. */
  rowsByWorkflowId(ctx: Ctx, workflowIds: string[]): Promise<ProcessRow[]>;
}

const DESCRIBE_LANES = 16;

export async function compareProcesses(ctx: Ctx, spec: ProcessSpec): Promise<RuleResult[]> {
  const [open, running] = await Promise.all([spec.openRows(ctx), ctx.temporalView.running(spec.workflowType)]);
  const ids = (id: string, workflowId: string) => ({ [spec.idName]: id, workflowId });

  // Open in Postgres, not in the running listing: confirmed with describe().
  const notListed = open.filter((r) => !running.has(r.workflowId) && isSettled(ctx, r.changedAt));
  const stopped: Array<{ row: ProcessRow; status: string }> = [];
  await mapLimit(notListed, DESCRIBE_LANES, async (row) => {
    const d = await ctx.temporalView.describe(row.workflowId);
    if (d?.status !== 'RUNNING') stopped.push({ row, status: d ? d.status.toLowerCase() : 'missing' });
  });
  // Read again: a process that finished between the two reads closed its row first.
  const nowOpen = await current(
    ctx,
    spec,
    stopped.map((x) => x.row.workflowId),
  );
  const openNotRunning = stopped
    .filter(({ row }) => nowOpen.get(row.workflowId)?.open && isSettled(ctx, nowOpen.get(row.workflowId)!.changedAt))
    .map(({ row, status }): Violation => ({
      rule: `${spec.slug}-open-not-running`,
      ids: ids(row.id, row.workflowId),
      message: `${spec.slug} ${row.id} is ${row.status} in Postgres but its workflow is ${status}`,
    }));

  // Running in Temporal, not open in Postgres.
  const openIds = new Set(open.map((r) => r.workflowId));
  const candidates = [...running.values()].filter((w) => !openIds.has(w.workflowId) && w.startTime.getTime() < ctx.settledBefore.getTime());
  const rows = await current(
    ctx,
    spec,
    candidates.map((w) => w.workflowId),
  );
  const judged = candidates.filter((w) => {
    const row = rows.get(w.workflowId);
    // Scoped to clinics: a row elsewhere is not ours; a missing row is judged only on our own task queue.
    if (ctx.clinicIds && (row ? !ctx.clinicIds.includes(row.clinicId) : !ctx.taskQueue)) return false;
    if (!row) return w.startTime.getTime() < ctx.settledBefore.getTime() - (spec.rowlessGraceMs ?? 0);
    return !row.open && isSettled(ctx, row.changedAt);
  });
  const stillRunning: string[] = [];
  await mapLimit(judged, DESCRIBE_LANES, async (w) => {
    if ((await ctx.temporalView.describe(w.workflowId))?.status === 'RUNNING') stillRunning.push(w.workflowId);
  });
  // Read again: a row written (or reopened) since the first read is not a violation.
  const reread = await current(ctx, spec, stillRunning);
  const runningNotOpen = stillRunning
    .filter((wf) => {
      const row = reread.get(wf);
      return !row || (!row.open && isSettled(ctx, row.changedAt));
    })
    .map((wf): Violation => {
      const row = reread.get(wf);
      return {
        rule: `${spec.slug}-running-not-open`,
        ids: ids(row?.id ?? wf.slice(spec.slug.length + 1), wf),
        message: row
          ? `the ${spec.slug} workflow runs but Postgres says ${row.id} is ${row.status}`
          : `the ${spec.slug} workflow runs but Postgres has no row for it`,
      };
    });

  return [
    { rule: `${spec.slug}-open-not-running`, checked: open.length, violations: openNotRunning },
    { rule: `${spec.slug}-running-not-open`, checked: running.size, violations: runningNotOpen },
  ];
}

/** The rows of these workflows as they are now, by workflow id. */
async function current(ctx: Ctx, spec: ProcessSpec, workflowIds: string[]): Promise<Map<string, ProcessRow>> {
  const out = new Map<string, ProcessRow>();
  for (let i = 0; i < workflowIds.length; i += 1000) {
    for (const r of await spec.rowsByWorkflowId(ctx, workflowIds.slice(i, i + 1000))) out.set(r.workflowId, r);
  }
  return out;
}

/** `AND <column> = ANY(<clinic ids>)` when the check is scoped to clinics, else nothing. */
export function clinicScope(ctx: Ctx, column: string): RawBuilder<unknown> {
  return ctx.clinicIds ? sql`AND ${sql.ref(column)} = ANY(${sql.val(ctx.clinicIds)}::uuid[])` : sql``;
}
