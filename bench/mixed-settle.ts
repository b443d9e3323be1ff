/**
 * After a mixed load (or a fault): what is still pending, what was started and completed, and
 * what was created twice or lost. Reads Postgres (the system of record) and Temporal's
 * visibility (counts only: no payload is decoded).
 */
import { Client, Connection } from '@temporalio/client';
import { sql } from 'kysely';
import { createDb, type Db } from '../db';
import { nameUuid } from '../domain/ids';
import { DEMO_LAB_ORDERS } from '../workers/lab-order-demo';
import { demoCity, type LoadRecord } from './mixed-load';

export interface Probe {
  db: Db;
  temporal: Client;
  close(): Promise<void>;
}

export async function openProbe(databaseUrl: string, temporalAddress: string, namespace = 'default'): Promise<Probe> {
  const db = createDb(databaseUrl, 2);
  const connection = await Connection.connect({ address: temporalAddress });
  const temporal = new Client({ connection, namespace });
  return {
    db,
    temporal,
    async close() {
      await db.destroy();
      await connection.close();
    },
  };
}

const TYPES = ['bookingWorkflow', 'referralWorkflow', 'labOrderWorkflow', 'cdsAssessmentWorkflow', 'onboardingWorkflow'] as const;
const iso = (d: Date) => d.toISOString();

/**
 * Processes that should have moved on and have not, for what was created since `since`: a booking
 * whose workflow does not (yet) show its appointment's status, a lab order resulted or final without
 * its CDS card, a referral not yet offering slots.
 */
export async function backlog(probe: Probe, since: Date): Promise<Record<string, number>> {
  const { db, temporal } = probe;
  const pending: Record<string, number> = {};
  const byStatus = await db
    .selectFrom('appointments')
    .select(['status', sql<number>`count(*)::int`.as('n')])
    .where('created_at', '>=', since)
    .groupBy('status')
    .execute();
  let bookings = 0;
  for (const { status, n } of byStatus) {
    const { count } = await temporal.workflow.count(
      `WorkflowType = 'bookingWorkflow' AND StartTime >= '${iso(since)}' AND ProcessStatus = '${status}'`,
    );
    bookings += Math.max(0, n - count);
  }
  pending['booking status not in its process'] = bookings;
  const lab = await db
    .selectFrom('lab_orders as o')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('o.created_at', '>=', since)
    .where('o.status', 'in', ['resulted', 'final', 'acknowledged'])
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('lab_cds_cards as c')
            .select('c.lab_order_id')
            .whereRef('c.lab_order_id', '=', 'o.id')
            .whereRef('c.round', '=', 'o.round'),
        ),
      ),
    )
    .executeTakeFirstOrThrow();
  pending['lab order without its CDS card'] = lab.n;
  const referrals = await db
    .selectFrom('referrals')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('created_at', '>=', since)
    .where('status', '=', 'created')
    .executeTakeFirstOrThrow();
  pending['referral not yet offering'] = referrals.n;
  return pending;
}

/**
 * The bookings behind a non-zero "booking status not in its process": each appointment since `since`
 * whose process (found by workflow id) shows another ProcessStatus, or no process at all. Ids only.
 */
export async function bookingMismatches(probe: Probe, since: Date, limit = 20): Promise<string[]> {
  const rows = await probe.db
    .selectFrom('appointments')
    .select(['id', 'status', 'workflow_id', 'created_at'])
    .where('created_at', '>=', since)
    .execute();
  const shown = new Map<string, string>();
  for await (const w of probe.temporal.workflow.list({ query: `WorkflowType = 'bookingWorkflow' AND StartTime >= '${iso(since)}'` })) {
    shown.set(w.workflowId, String(w.searchAttributes?.ProcessStatus?.[0] ?? 'none') + ` (${w.status.name})`);
  }
  return rows
    .filter((r) => !shown.get(r.workflow_id)?.startsWith(`${r.status} `))
    .slice(0, limit)
    .map((r) => `${r.id} row ${r.status} since ${iso(r.created_at)}, process ${shown.get(r.workflow_id) ?? 'not started since then'}`);
}

export const backlogTotal = (b: Record<string, number>) => Object.values(b).reduce((s, n) => s + n, 0);

/** Polls the backlog until it is empty (or timeoutMs); resolves with how long it took and what was left. */
export async function drain(probe: Probe, since: Date, timeoutMs: number): Promise<{ ms: number; left: Record<string, number> }> {
  const started = Date.now();
  for (;;) {
    const left = await backlog(probe, since).catch((err: Error) => ({ [`probe failed: ${err.message.slice(0, 60)}`]: 1 }));
    if (backlogTotal(left) === 0 || Date.now() - started > timeoutMs) return { ms: Date.now() - started, left };
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Workflows started since `since`, by type: started, running, completed, other ends. */
export async function processCounts(
  probe: Probe,
  since: Date,
): Promise<Array<{ type: string; started: number; running: number; completed: number; other: number }>> {
  const rows = [];
  for (const type of TYPES) {
    const q = (extra: string) =>
      probe.temporal.workflow.count(`WorkflowType = '${type}' AND StartTime >= '${iso(since)}'${extra}`).then((r) => r.count);
    const [started, running, completed] = await Promise.all([
      q(''),
      q(` AND ExecutionStatus = 'Running'`),
      q(` AND ExecutionStatus = 'Completed'`),
    ]);
    if (started) rows.push({ type, started, running, completed, other: started - running - completed });
  }
  return rows;
}

/**
 * Rows the load created, against the Idempotency-Keys it sent: `duplicated` counts rows beyond one
 * per key (a retried POST that created a second row), `lost` answers the client got (201, an id)
 * whose row is missing.
 */
export async function rowAccounting(probe: Probe, since: Date, record: LoadRecord, doctorPractitionerId = demoCity().doctorPractitionerId) {
  const { db } = probe;
  const count = async (table: 'appointments' | 'referrals' | 'lab_orders', by?: { column: 'booked_by' | 'created_by'; value: string }) => {
    let q = db
      .selectFrom(table)
      .select(sql<number>`count(*)::int`.as('n'))
      .where('created_at', '>=', since);
    if (by) q = q.where(sql.ref(by.column), '=', by.value);
    // The demo city's own lab orders: their rows are written when the worker first runs them, maybe after `since`.
    if (table === 'lab_orders')
      q = q.where(
        'id',
        'not in',
        DEMO_LAB_ORDERS.map((o) => nameUuid('demo', o.key)),
      );
    return (await q.executeTakeFirstOrThrow()).n;
  };
  const present = async (table: 'appointments' | 'referrals' | 'lab_orders', ids: string[]) =>
    ids.length === 0
      ? 0
      : (
          await db
            .selectFrom(table)
            .select(sql<number>`count(*)::int`.as('n'))
            .where('id', 'in', ids)
            .executeTakeFirstOrThrow()
        ).n;
  // The demo tokens' callers (local-stack/demo.ts): a waitlist offer or a seeded row is not the load's.
  const kinds = [
    ['appointments', 'appointments', { column: 'booked_by', value: 'demo-registrar' }],
    ['referrals', 'referrals', { column: 'created_by', value: 'demo-doctor' }],
    ['lab_orders', 'labOrders', { column: 'created_by', value: doctorPractitionerId }],
  ] as const;
  const out: Record<string, { keys: number; answered: number; rows: number; duplicated: number; lost: number; extra?: string[] }> = {};
  for (const [table, kind, by] of kinds) {
    const ids = [...record.created[kind].values()];
    const rows = await count(table, by);
    const keys = record.keysSent[kind].size;
    out[table] = { keys, answered: ids.length, rows, duplicated: Math.max(0, rows - keys), lost: ids.length - (await present(table, ids)) };
    // Rows beyond the keys are named, so a report says which rows they are and when they were made.
    if (rows > keys) {
      const extra = await db
        .selectFrom(table)
        .select(['id', 'created_at'])
        .where('created_at', '>=', since)
        .where(sql.ref(by.column), '=', by.value)
        .$if(ids.length > 0, (q) => q.where('id', 'not in', ids))
        .execute();
      Object.assign(out[table]!, { extra: extra.map((r) => `${r.id}@${r.created_at.toISOString()}`) });
    }
  }
  return out;
}
