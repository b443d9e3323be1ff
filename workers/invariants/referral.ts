/**
 * Referral invariants: open referrals run and running referrals are open; every referral still
 * awaiting a booking past its deadline is flagged breached; every status the row has reached has
 * its timeline event (referral_events, the referral's audit trail, written in the same
 * transaction as the row).
 */
import { sql } from 'kysely';
import { AWAITING_BOOKING, OPEN_STATUSES } from '../../domain/referral';
import { referralWorkflow } from '../../workflows/referral';
import { clinicScope, compareProcesses, type ProcessRow, type ProcessSpec } from './processes';
import { isSettled, type Ctx, type RuleResult, type Violation } from './types';

const list = (xs: readonly string[]) => sql.raw(`(${xs.map((s) => `'${s}'`).join(', ')})`);

interface Row {
  id: string;
  workflow_id: string;
  status: string;
  clinic_id: string;
  updated_at: Date;
}
const toProcess = (r: Row): ProcessRow => ({
  id: r.id,
  workflowId: r.workflow_id,
  status: r.status,
  open: OPEN_STATUSES.includes(r.status as never),
  clinicId: r.clinic_id,
  changedAt: r.updated_at,
});

export const referralProcess: ProcessSpec = {
  slug: 'referral',
  workflowType: referralWorkflow.name,
  idName: 'referralId',
  async openRows(ctx) {
    const { rows } = await sql<Row>`SELECT id, workflow_id, status, clinic_id, updated_at FROM referrals
      WHERE status IN ${list(OPEN_STATUSES)} ${clinicScope(ctx, 'clinic_id')}`.execute(ctx.db);
    return rows.map(toProcess);
  },
  async rowsByWorkflowId(ctx, workflowIds) {
    const { rows } = await sql<Row>`SELECT id, workflow_id, status, clinic_id, updated_at FROM referrals
      WHERE workflow_id = ANY(${workflowIds}::text[])`.execute(ctx.db);
    return rows.map(toProcess);
  },
};

export async function referralRules(ctx: Ctx): Promise<RuleResult[]> {
  return (await Promise.all([breachFlagged(ctx), audited(ctx), compareProcesses(ctx, referralProcess)])).flat();
}

/**
 * Unbooked past its deadline (by more than the settle time): the process must have flagged it. The
 * settle time also runs from the row's last change and from its process's start: a referral
 * written long past its deadline (the demo seed's) is flagged by a process that may have started a
 * moment ago, and a process still stepping (offer, escalation, breach) is not judged yet.
 */
async function breachFlagged(ctx: Ctx): Promise<RuleResult> {
  const rule = 'referral-breach-flagged';
  const { rows } = await sql<{ id: string; workflow_id: string; breached: boolean; updated_at: Date }>`
    SELECT id, workflow_id, breached, updated_at FROM referrals
    WHERE status IN ${list(AWAITING_BOOKING)} AND appointment_id IS NULL AND deadline_at < ${ctx.settledBefore} ${clinicScope(ctx, 'clinic_id')}`.execute(
    ctx.db,
  );
  const unflagged = rows.filter((r) => !r.breached && isSettled(ctx, r.updated_at));
  const found = await Promise.all(
    unflagged.map(async (r) => {
      // No process at all is a violation too: nothing will ever flag the row.
      const process = await ctx.temporalView.describe(r.workflow_id);
      return process?.status === 'RUNNING' && !isSettled(ctx, process.startTime) ? null : r;
    }),
  );
  const violations = found
    .filter((r) => r !== null)
    .map((r): Violation => ({
      rule,
      ids: { referralId: r.id, workflowId: r.workflow_id },
      message: 'the referral is past its deadline without a booking and is not flagged breached',
    }));
  return { rule, checked: rows.length, violations };
}

/** Each status reached has its event; a breach has its escalation event. */
async function audited(ctx: Ctx): Promise<RuleResult> {
  const rule = 'referral-audit';
  const has = (cond: ReturnType<typeof sql>) => sql`EXISTS (SELECT 1 FROM referral_events e WHERE e.referral_id = r.id AND ${cond})`;
  const { rows } = await sql<{ id: string; status: string; stepped: boolean }>`
    SELECT * FROM (SELECT r.id, r.status,
      (r.status = 'created' OR ${has(sql`e.step = r.status`)}) AS stepped,
      (NOT r.breached OR ${has(sql`e.step = 'breached-escalated-head-of-department'`)}) AS flagged
      FROM referrals r WHERE r.updated_at < ${ctx.settledBefore} ${clinicScope(ctx, 'r.clinic_id')}) x
    WHERE NOT stepped OR NOT flagged`.execute(ctx.db);
  const {
    rows: [total],
  } = await sql<{ n: string }>`SELECT count(*) AS n FROM referrals r WHERE true ${clinicScope(ctx, 'r.clinic_id')}`.execute(ctx.db);
  const violations = rows.map((r): Violation => ({
    rule,
    ids: { referralId: r.id },
    message: r.stepped
      ? 'the referral is flagged breached without its escalation event'
      : `no referral event records the referral becoming ${r.status}`,
  }));
  return { rule, checked: Number(total!.n), violations };
}
