/**
 * Booking's invariants: every appointment has one slot (and matches it) and one process
 * (`booking-<id>` exists in Temporal); no slot, practitioner or patient has overlapping live
 * appointments; open appointments run and running bookings are open; every appointment has its
 * audit rows (how it was created, and its current status).
 */
import { sql } from 'kysely';
import { bookingWorkflowId, LIVE_STATUSES } from '../../domain/booking';
import { bookingWorkflow } from '../../workflows/booking';
import { clinicScope, compareProcesses, type ProcessRow, type ProcessSpec } from './processes';
import { mapLimit } from './temporal';
import { isSettled, type Ctx, type RuleResult, type Violation } from './types';

const OPEN = ['held', 'offered', 'booked', 'arrived'] as const;
const live = sql.raw(`(${LIVE_STATUSES.map((s) => `'${s}'`).join(', ')})`);
const open = sql.raw(`(${OPEN.map((s) => `'${s}'`).join(', ')})`);

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
  open: (OPEN as readonly string[]).includes(r.status),
  clinicId: r.clinic_id,
  changedAt: r.updated_at,
});

export const bookingProcess: ProcessSpec = {
  slug: 'booking',
  workflowType: bookingWorkflow.name,
  idName: 'appointmentId',
  // Its first step comes with the start; a start without it ends by itself within 5 minutes.
  rowlessGraceMs: 5 * 60_000,
  async openRows(ctx) {
    const { rows } = await sql<Row>`SELECT id, workflow_id, status, clinic_id, updated_at FROM appointments
      WHERE status IN ${open} ${clinicScope(ctx, 'clinic_id')}`.execute(ctx.db);
    return rows.map(toProcess);
  },
  async rowsByWorkflowId(ctx, workflowIds) {
    const { rows } = await sql<Row>`SELECT id, workflow_id, status, clinic_id, updated_at FROM appointments
      WHERE workflow_id = ANY(${workflowIds}::text[])`.execute(ctx.db);
    return rows.map(toProcess);
  },
};

export async function bookingRules(ctx: Ctx): Promise<RuleResult[]> {
  const results = await Promise.all([
    slotMatches(ctx),
    overlaps(ctx, 'slot'),
    overlaps(ctx, 'patient'),
    hasProcess(ctx),
    outboxDrained(ctx),
    audited(ctx),
    compareProcesses(ctx, bookingProcess),
  ]);
  return results.flat();
}

async function count(ctx: Ctx, where = sql``): Promise<number> {
  const { rows } = await sql<{
    n: string;
  }>`SELECT count(*) AS n FROM appointments a WHERE true ${where} ${clinicScope(ctx, 'a.clinic_id')}`.execute(ctx.db);
  return Number(rows[0]!.n);
}

/** The appointment's practitioner, clinic and times are its slot's. */
async function slotMatches(ctx: Ctx): Promise<RuleResult> {
  const { rows } = await sql<{
    id: string;
    slot_id: string;
  }>`SELECT a.id, a.slot_id FROM appointments a LEFT JOIN slots s ON s.id = a.slot_id
    WHERE (s.id IS NULL OR a.practitioner_id <> s.practitioner_id OR a.clinic_id <> s.clinic_id OR a.starts_at <> s.starts_at OR a.ends_at <> s.ends_at)
      AND a.updated_at < ${ctx.settledBefore} ${clinicScope(ctx, 'a.clinic_id')}`.execute(ctx.db);
  return {
    rule: 'appointment-slot',
    checked: await count(ctx),
    violations: rows.map((r) => ({
      rule: 'appointment-slot',
      ids: { appointmentId: r.id, slotId: r.slot_id },
      message: 'the appointment does not match its slot (missing, or another practitioner, clinic or time)',
    })),
  };
}

/**
 * Two live appointments of one slot or practitioner ('slot-no-overlap'), or of one patient
 * ('patient-no-overlap'), at overlapping times. The database's unique index and exclusion
 * constraint forbid most of these; this finds what gets past them (an appointment whose times are
 * not its slot's, a constraint dropped).
 */
async function overlaps(ctx: Ctx, by: 'slot' | 'patient'): Promise<RuleResult> {
  const rule = `${by}-no-overlap`;
  const same = by === 'slot' ? sql`(a.practitioner_id = b.practitioner_id OR a.slot_id = b.slot_id)` : sql`a.patient_id = b.patient_id`;
  const { rows } = await sql<{ a: string; b: string; slot_a: string; slot_b: string; practitioner_id: string; patient_id: string }>`
    SELECT a.id AS a, b.id AS b, a.slot_id AS slot_a, b.slot_id AS slot_b, a.practitioner_id, a.patient_id
    FROM appointments a JOIN appointments b ON ${same} AND a.id < b.id
      AND (a.slot_id = b.slot_id OR tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at))
    WHERE a.status IN ${live} AND b.status IN ${live} ${clinicScope(ctx, 'a.clinic_id')}`.execute(ctx.db);
  const violations = rows.map((r): Violation => ({
    rule,
    ids:
      by === 'slot'
        ? { appointmentId: r.a, otherAppointmentId: r.b, slotId: r.slot_a, otherSlotId: r.slot_b, practitionerId: r.practitioner_id }
        : { appointmentId: r.a, otherAppointmentId: r.b, patientId: r.patient_id },
    message:
      by === 'slot'
        ? 'two live appointments take the same slot or the same practitioner at once'
        : 'the patient has two live appointments at overlapping times',
  }));
  return { rule, checked: await count(ctx, sql`AND a.status IN ${live}`), violations };
}

/**
 * Every appointment has its process: workflow id `booking-<id>`, and that workflow exists in
 * Temporal (running or closed). Closed appointments older than the namespace's retention are
 * skipped: Temporal has removed their history by design.
 */
/** Every outbox row is drained once settled: a row still undone then means no relay drains its task queue, or it keeps failing. */
async function outboxDrained(ctx: Ctx): Promise<RuleResult> {
  const rule = 'outbox-drained';
  const { rows } = await sql<{
    id: string;
    workflow_id: string;
    kind: string;
    attempts: number;
  }>`SELECT id, workflow_id, kind, attempts FROM process_outbox
    WHERE done_at IS NULL AND created_at < ${ctx.settledBefore} AND (${ctx.taskQueue}::text IS NULL OR task_queue = ${ctx.taskQueue})`.execute(
    ctx.db,
  );
  // Scoped like the other rules: with a task queue given, only the rows its relay drains are judged.
  const { rows: all } = await sql<{ n: string }>`SELECT count(*) AS n FROM process_outbox
    WHERE done_at IS NULL AND (${ctx.taskQueue}::text IS NULL OR task_queue = ${ctx.taskQueue})`.execute(ctx.db);
  return {
    rule,
    checked: Number(all[0]!.n),
    violations: rows.map((r) => ({
      rule,
      ids: { outboxId: r.id, workflowId: r.workflow_id },
      message: `outbox row ${r.id} (${r.kind}, ${r.attempts} attempts) is not drained`,
    })),
  };
}

async function hasProcess(ctx: Ctx): Promise<RuleResult> {
  const rule = 'appointment-process';
  const { rows } = await sql<
    Row & { created_at: Date }
  >`SELECT id, workflow_id, status, clinic_id, updated_at, created_at FROM appointments a
    WHERE true ${clinicScope(ctx, 'a.clinic_id')}`.execute(ctx.db);
  const [known, retentionMs] = await Promise.all([ctx.temporalView.all(bookingWorkflow.name), ctx.temporalView.retentionMs()]);
  const violations: Violation[] = [];
  const unknown: Row[] = [];
  for (const r of rows) {
    if (r.workflow_id !== bookingWorkflowId(r.id)) {
      violations.push({
        rule,
        ids: { appointmentId: r.id, workflowId: r.workflow_id },
        message: `the appointment's workflow id is not ${bookingWorkflowId(r.id)}`,
      });
      continue;
    }
    if (known.has(r.workflow_id) || !isSettled(ctx, r.created_at)) continue;
    const closed = !(OPEN as readonly string[]).includes(r.status);
    if (closed && retentionMs !== null && r.updated_at.getTime() < ctx.now.getTime() - retentionMs) continue;
    unknown.push(r);
  }
  await mapLimit(unknown, 16, async (r) => {
    if (await ctx.temporalView.describe(r.workflow_id)) return;
    violations.push({
      rule,
      ids: { appointmentId: r.id, workflowId: r.workflow_id },
      message: `appointment ${r.id} (${r.status}) has no booking workflow in Temporal`,
    });
  });
  return { rule, checked: rows.length, violations };
}

/** Every appointment has the audit row of its creation (held, offered or booked) and of its current status. */
async function audited(ctx: Ctx): Promise<RuleResult> {
  const rule = 'appointment-audit';
  const has = (cond: ReturnType<typeof sql>) =>
    sql`EXISTS (SELECT 1 FROM audit_log l WHERE l.entity = 'appointment' AND l.entity_id = a.id::text AND ${cond})`;
  const { rows } = await sql<{ id: string; status: string; created: boolean }>`
    SELECT * FROM (SELECT a.id, a.status, ${has(sql`l.action IN ('held', 'offered', 'booked')`)} AS created,
      ${has(sql`(l.action = a.status OR (a.status = 'expired' AND l.action = 'expired-by-sweep'))`)} AS current
      FROM appointments a WHERE a.updated_at < ${ctx.settledBefore} ${clinicScope(ctx, 'a.clinic_id')}) x
    WHERE NOT created OR NOT current`.execute(ctx.db);
  const violations = rows.map((r): Violation => ({
    rule,
    ids: { appointmentId: r.id },
    message: !r.created ? 'no audit row records how the appointment was made' : `no audit row records the appointment becoming ${r.status}`,
  }));
  return { rule, checked: await count(ctx), violations };
}
