/**
 * Inbound lab messages: the raw store, control ids claimed per sender, the answer (ACK) kept with
 * each message, the order a message is judged against, and the unmatched queue with its
 * resolutions (audited). Commands and queries for both transports' one intake.
 */
import { sql, type Kysely } from 'kysely';
import type { JudgeContext } from '../domain/hl7-intake';
import type { LabOrderStatus } from '../domain/lab-order';
import { currentResults, loadCatalogue } from './lab-order';
import type { Database, LabMessageStatus } from './schema';

type Q = Kysely<Database>;

/** Text for a text column: Postgres text takes no NUL, and a column is never a dump of the message. */
const cell = (s: string, max = 200) => s.replace(/\0/g, '').slice(0, max);

export interface InboundRecord {
  transport: 'http' | 'mllp';
  sendingApplication: string;
  sendingFacility: string;
  caller: string | null;
  peer: string | null;
  clinicId: string | null;
  controlId: string;
  sha256: string;
  raw: Buffer;
}

/** Keeps the message as it came, before anything is judged; returns its id. */
export async function recordInbound(db: Q, m: InboundRecord): Promise<string> {
  const row = await db
    .insertInto('lab_messages')
    .values({
      transport: m.transport,
      sending_application: cell(m.sendingApplication),
      sending_facility: cell(m.sendingFacility),
      caller: m.caller && cell(m.caller),
      peer: m.peer && cell(m.peer),
      clinic_id: m.clinicId,
      control_id: cell(m.controlId),
      sha256: m.sha256,
      size_bytes: m.raw.length,
      raw: m.raw,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export type ControlIdClaim =
  | { claimed: true }
  | { claimed: false; first: { messageId: string; sha256: string; ack: string | null; ackCode: 'AA' | 'AE' | 'AR' | null } };

/** The sender's control id for this message, or the message that holds it already. */
export async function claimControlId(
  db: Q,
  c: { sendingApplication: string; sendingFacility: string; controlId: string; messageId: string; sha256: string },
): Promise<ControlIdClaim> {
  const key = { sending_application: cell(c.sendingApplication), sending_facility: cell(c.sendingFacility), control_id: cell(c.controlId) };
  const inserted = await db
    .insertInto('lab_message_control_ids')
    .values({ ...key, message_id: c.messageId, sha256: c.sha256 })
    .onConflict((oc) => oc.doNothing())
    .returning('message_id')
    .executeTakeFirst();
  if (inserted) return { claimed: true };
  const first = await db
    .selectFrom('lab_message_control_ids as c')
    .innerJoin('lab_messages as m', 'm.id', 'c.message_id')
    .select(['c.message_id', 'c.sha256', 'm.ack', 'm.ack_code'])
    .where('c.sending_application', '=', key.sending_application)
    .where('c.sending_facility', '=', key.sending_facility)
    .where('c.control_id', '=', key.control_id)
    .executeTakeFirstOrThrow();
  return { claimed: false, first: { messageId: first.message_id, sha256: first.sha256, ack: first.ack, ackCode: first.ack_code } };
}

export interface MessageAnswer {
  status: LabMessageStatus;
  ackCode: 'AA' | 'AE' | 'AR';
  ack: string;
  reason: string;
  problems?: unknown[];
  placerOrderId?: string | null;
  labOrderId?: string | null;
}

/**
 * Writes the answer once: the first answer given for a message is the one every identical resend
 * gets. Returns the answer that stands (this one, or one written before it).
 */
export async function settleAnswer(
  db: Q,
  messageId: string,
  a: MessageAnswer,
): Promise<{ ack: string; ackCode: 'AA' | 'AE' | 'AR'; status: LabMessageStatus }> {
  const written = await db
    .updateTable('lab_messages')
    .set({
      status: a.status,
      ack_code: a.ackCode,
      ack: a.ack,
      reason: cell(a.reason, 1000),
      problems: JSON.stringify((a.problems ?? []).slice(0, 50)),
      placer_order_id: a.placerOrderId == null ? null : cell(a.placerOrderId),
      lab_order_id: a.labOrderId ?? null,
      answered_at: new Date(),
    })
    .where('id', '=', messageId)
    .where('ack', 'is', null)
    .returning(['ack', 'ack_code', 'status'])
    .executeTakeFirst();
  const row =
    written ??
    (await db.selectFrom('lab_messages').select(['ack', 'ack_code', 'status']).where('id', '=', messageId).executeTakeFirstOrThrow());
  return { ack: row.ack!, ackCode: row.ack_code!, status: row.status };
}

/** The order a message names, with what judging needs: its patient, its tests' catalogue, what is reported already. */
export async function judgingContext(
  db: Q,
  orderId: string,
): Promise<(JudgeContext & { clinicId: string; workflowId: string }) | undefined> {
  const order = await db
    .selectFrom('lab_orders as o')
    .innerJoin('patients as p', 'p.id', 'o.patient_id')
    .select(['o.id', 'o.patient_id', 'o.status', 'o.tests', 'o.clinic_id', 'o.workflow_id', 'p.full_name', 'p.birth_date'])
    .where('o.id', '=', orderId)
    .executeTakeFirst();
  if (!order) return undefined;
  const [catalogue, current] = await Promise.all([loadCatalogue(db, order.tests), currentResults(db, [order.id])]);
  return {
    order: { id: order.id, patientId: order.patient_id, status: order.status as LabOrderStatus, tests: order.tests },
    patient: { id: order.patient_id, fullName: order.full_name, birthDate: order.birth_date },
    catalogue,
    reportedLoincs: current.filter((r) => r.status !== 'preliminary').map((r) => r.loinc),
    clinicId: order.clinic_id,
    workflowId: order.workflow_id,
  };
}

export function labMessageRow(db: Q, id: string) {
  return db.selectFrom('lab_messages').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The unmatched queue: of one lab's clinic, or every clinic's (admin), oldest first. */
export function unmatchedMessages(db: Q, clinicId: string | null, limit = 200) {
  let q = db
    .selectFrom('lab_messages')
    .select([
      'id',
      'received_at',
      'transport',
      'sending_application',
      'sending_facility',
      'clinic_id',
      'control_id',
      'reason',
      'problems',
      'placer_order_id',
      'raw',
    ])
    .where('status', '=', 'unmatched');
  if (clinicId) q = q.where('clinic_id', '=', clinicId);
  return q.orderBy('received_at').limit(limit).execute();
}

/** Resolutions for ops: ids, sender, outcome and who, newest first; no patient data. */
export function resolvedMessages(db: Q, limit = 200) {
  return db
    .selectFrom('lab_messages')
    .select([
      'id',
      'received_at',
      'transport',
      'sending_facility',
      'clinic_id',
      'control_id',
      'resolution',
      'resolution_reason',
      'resolved_by',
      'resolved_at',
      'lab_order_id',
    ])
    .where('resolved_at', 'is not', null)
    .orderBy('resolved_at', 'desc')
    .limit(limit)
    .execute();
}

/** Counts per status and ACK code, for ops. */
export function messageCounts(db: Q) {
  return db
    .selectFrom('lab_messages')
    .select(['status', 'ack_code', sql<string>`count(*)`.as('n')])
    .groupBy(['status', 'ack_code'])
    .execute();
}

export type UnmatchedRow = NonNullable<Awaited<ReturnType<typeof labMessageRow>>>;
export type Resolution = { resolution: 'attached' | 'rejected'; reason: string; labOrderId: string | null; patientId: string | null };

/**
 * Resolves an unmatched message, one supervisor at a time: the row is locked while `decide` runs
 * (it may file the message through the order's process); a resolution it returns is written and
 * audited in the same transaction. `busy` when another resolution holds it, `not_unmatched` when
 * it is resolved already or was never queued.
 */
export async function resolveUnmatched<T>(
  db: Q,
  r: { messageId: string; by: string; role: string; requestId: string | null },
  decide: (row: UnmatchedRow) => Promise<{ resolve: Resolution; result: T } | { refuse: T }>,
): Promise<{ outcome: 'resolved' | 'refused'; result: T } | { outcome: 'not_unmatched' | 'busy' }> {
  try {
    return await db.transaction().execute(async (tx) => {
      await sql`SET LOCAL lock_timeout = '2s'`.execute(tx);
      const row = await tx
        .selectFrom('lab_messages')
        .selectAll()
        .where('id', '=', r.messageId)
        .where('status', '=', 'unmatched')
        .forUpdate()
        .executeTakeFirst();
      if (!row) return { outcome: 'not_unmatched' as const };
      const decided = await decide(row);
      if ('refuse' in decided) return { outcome: 'refused' as const, result: decided.refuse };
      const d = decided.resolve;
      await tx
        .updateTable('lab_messages')
        .set({
          status: d.resolution,
          resolution: d.resolution,
          resolution_reason: cell(d.reason),
          resolved_by: cell(r.by),
          resolved_at: new Date(),
          ...(d.labOrderId ? { lab_order_id: d.labOrderId } : {}),
        })
        .where('id', '=', r.messageId)
        .execute();
      await tx
        .insertInto('audit_log')
        .values({
          actor: r.by,
          action: 'write',
          entity: 'lab_message',
          entity_id: r.messageId,
          workflow_id: null,
          dedupe_key: `lab-message-resolved:${r.messageId}`,
          details: JSON.stringify({
            kind: 'lab-message-resolution',
            resolution: d.resolution,
            reason: cell(d.reason),
            labOrderId: d.labOrderId,
            role: r.role,
            requestId: r.requestId,
            ...(d.patientId ? { patientId: d.patientId } : {}),
          }),
        })
        .execute();
      return { outcome: 'resolved' as const, result: decided.result };
    });
  } catch (err) {
    if ((err as { code?: string }).code === '55P03') return { outcome: 'busy' };
    throw err;
  }
}
