/**
 * Lab order invariants: open orders run and running orders are open; every final order has a
 * final, interpreted result for each test, its CDS card for each round (an assessment, or why it
 * was not calculated), and, when the round was critical, its acknowledgement or escalation; every
 * status the row has reached has its event (lab_order_events, written with the row).
 */
import { sql } from 'kysely';
import { labOrderWorkflow } from '../../workflows/lab-order';
import { clinicScope, compareProcesses, type ProcessRow, type ProcessSpec } from './processes';
import { mapLimit } from './temporal';
import { isSettled, type Ctx, type RuleResult, type Violation } from './types';

const CLOSED = ['closed', 'cancelled', 'reviewed'];
const FINAL = sql.raw(`('final', 'acknowledged', 'closed')`);
/** The activities that make a round's card: while one is pending, the card is on its way. */
const CDS_STEPS = ['gatherLabFeatures', 'scoreModel', 'storeLabCds'];

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
  open: !CLOSED.includes(r.status),
  clinicId: r.clinic_id,
  changedAt: r.updated_at,
});

export const labOrderProcess: ProcessSpec = {
  slug: 'lab-order',
  workflowType: labOrderWorkflow.name,
  idName: 'labOrderId',
  // Its first step comes with the start; a start without it ends by itself within 5 minutes.
  rowlessGraceMs: 5 * 60_000,
  async openRows(ctx) {
    const { rows } = await sql<Row>`SELECT id, workflow_id, status, clinic_id, updated_at FROM lab_orders
      WHERE status NOT IN ('closed', 'cancelled', 'reviewed') ${clinicScope(ctx, 'clinic_id')}`.execute(ctx.db);
    return rows.map(toProcess);
  },
  async rowsByWorkflowId(ctx, workflowIds) {
    const { rows } = await sql<Row>`SELECT id, workflow_id, status, clinic_id, updated_at FROM lab_orders
      WHERE workflow_id = ANY(${workflowIds}::text[])`.execute(ctx.db);
    return rows.map(toProcess);
  },
};

export async function labOrderRules(ctx: Ctx): Promise<RuleResult[]> {
  return (
    await Promise.all([interpreted(ctx), cdsCards(ctx), criticalFollowedUp(ctx), audited(ctx), compareProcesses(ctx, labOrderProcess)])
  ).flat();
}

async function countFinal(ctx: Ctx): Promise<number> {
  const { rows } = await sql<{
    n: string;
  }>`SELECT count(*) AS n FROM lab_orders o WHERE o.status IN ${FINAL} ${clinicScope(ctx, 'o.clinic_id')}`.execute(ctx.db);
  return Number(rows[0]!.n);
}

/** A final order has a final (or amended, corrected) interpreted result for every test it ordered. */
async function interpreted(ctx: Ctx): Promise<RuleResult> {
  const rule = 'lab-result-interpretation';
  const { rows } = await sql<{
    id: string;
    loinc: string;
  }>`SELECT o.id, t.loinc FROM lab_orders o CROSS JOIN LATERAL unnest(o.tests) AS t(loinc)
    WHERE o.status IN ${FINAL} ${clinicScope(ctx, 'o.clinic_id')}
      AND NOT EXISTS (SELECT 1 FROM lab_result_versions v WHERE v.lab_order_id = o.id AND v.loinc = t.loinc AND v.status <> 'preliminary' AND v.interpretation IS NOT NULL)`.execute(
    ctx.db,
  );
  return {
    rule,
    checked: await countFinal(ctx),
    violations: rows.map((r) => ({
      rule,
      ids: { labOrderId: r.id, loinc: r.loinc },
      message: 'the order is final without an interpreted final result for this test',
    })),
  };
}

/**
 * Each final round has its CDS card: an assessment that exists, or a card saying why the score
 * was not calculated. A card still being made (its activities pending in a running process, e.g.
 * while the CDS worker is down) is not missing.
 */
async function cdsCards(ctx: Ctx): Promise<RuleResult> {
  const rule = 'lab-result-cds';
  const { rows } = await sql<{
    id: string;
    workflow_id: string;
    round: number;
    current: number;
    final_at: Date | null;
    status: string;
    card: boolean;
  }>`
    SELECT o.id, o.workflow_id, r.round, o.round AS current, o.final_at, o.status, c.lab_order_id IS NOT NULL AS card
    FROM lab_orders o CROSS JOIN LATERAL generate_series(1, o.round) AS r(round)
    LEFT JOIN lab_cds_cards c ON c.lab_order_id = o.id AND c.round = r.round
    LEFT JOIN cds_assessments a ON a.id = c.assessment_id
    WHERE o.status IN ${FINAL} ${clinicScope(ctx, 'o.clinic_id')}
      AND (c.lab_order_id IS NULL OR (a.id IS NULL AND c.cards::text NOT ILIKE '%not calculated%'))`.execute(ctx.db);
  const violations: Violation[] = [];
  await mapLimit(
    rows.filter((r) => r.round < r.current || isSettled(ctx, r.final_at)),
    16,
    async (r) => {
      if (!r.card && r.status !== 'closed') {
        const d = await ctx.temporalView.describe(r.workflow_id);
        if (d?.status === 'RUNNING' && (d.pendingWorkflowTask || d.pendingActivities.some((a) => CDS_STEPS.includes(a)))) return;
      }
      violations.push({
        rule,
        ids: { labOrderId: r.id, round: String(r.round) },
        message: r.card
          ? 'the CDS card has neither an assessment nor the reason it was not calculated'
          : 'the final round has no CDS card and none is being made',
      });
    },
  );
  return { rule, checked: await countFinal(ctx), violations };
}

/** A critical final round is acknowledged, or its doctors were notified (the escalation's first step). */
async function criticalFollowedUp(ctx: Ctx): Promise<RuleResult> {
  const rule = 'lab-critical-followup';
  const { rows } = await sql<{ id: string; round: number; final_at: Date | null; done: boolean }>`
    SELECT o.id, o.round, o.final_at,
      (EXISTS (SELECT 1 FROM lab_acknowledgements k WHERE k.lab_order_id = o.id AND k.round = o.round)
       OR EXISTS (SELECT 1 FROM lab_critical_notifications n WHERE n.lab_order_id = o.id AND n.round = o.round)) AS done
    FROM lab_orders o LEFT JOIN lab_order_events e ON e.lab_order_id = o.id AND e.dedupe_key = o.workflow_id || ':final:' || o.round
    WHERE o.status IN ${FINAL} AND (o.critical_pending OR (e.details->>'critical') = 'true') ${clinicScope(ctx, 'o.clinic_id')}`.execute(
    ctx.db,
  );
  const violations = rows
    .filter((r) => !r.done && isSettled(ctx, r.final_at))
    .map((r): Violation => ({
      rule,
      ids: { labOrderId: r.id, round: String(r.round) },
      message: 'a critical result is neither acknowledged nor escalated to a doctor',
    }));
  return { rule, checked: rows.length, violations };
}

/** The event of each status the order reached (written in the same transaction as the row). */
async function audited(ctx: Ctx): Promise<RuleResult> {
  const rule = 'lab-order-audit';
  const ev = (cond: ReturnType<typeof sql>) => sql`EXISTS (SELECT 1 FROM lab_order_events e WHERE e.lab_order_id = o.id AND ${cond})`;
  const { rows } = await sql<{ id: string; status: string; stepped: boolean }>`
    SELECT * FROM (SELECT o.id, o.status,
      ${ev(sql`(CASE o.status
        WHEN 'ordered' THEN e.kind IN ('ordered', 'specimen-rejected')
        WHEN 'cancelled' THEN e.kind IN ('cancelled', 'specimen-rejected')
        WHEN 'resulted' THEN e.kind = 'results-posted'
        WHEN 'final' THEN e.dedupe_key = o.workflow_id || ':final:' || o.round
        WHEN 'acknowledged' THEN e.dedupe_key = o.workflow_id || ':acknowledged:' || o.round
        ELSE e.kind = o.status END)`)} AS stepped,
      (NOT o.overdue OR ${ev(sql`e.kind = 'overdue'`)}) AS flagged
      FROM lab_orders o WHERE o.updated_at < ${ctx.settledBefore} ${clinicScope(ctx, 'o.clinic_id')}) x
    WHERE NOT stepped OR NOT flagged`.execute(ctx.db);
  const {
    rows: [total],
  } = await sql<{ n: string }>`SELECT count(*) AS n FROM lab_orders o WHERE true ${clinicScope(ctx, 'o.clinic_id')}`.execute(ctx.db);
  const violations = rows.map((r): Violation => ({
    rule,
    ids: { labOrderId: r.id },
    message: r.stepped ? 'the order is flagged overdue without its event' : `no lab order event records the order becoming ${r.status}`,
  }));
  return { rule, checked: Number(total!.n), violations };
}
