/**
 * Queries and commands of the delivery path (issue 23), shared by the delivery activities, the
 * relay and the API: contact points, the on-call roster, delivery status and the ops lists.
 */
import { sql } from 'kysely';
import type { Channel, ContactPoint } from '../domain/notify';
import type { Db } from './index';
import { inTransaction } from './tx';

const LIMITS = { statementMs: 5000, lockMs: 2000 };

export async function contactPointsOf(db: Db, ownerType: 'patient' | 'practitioner', ownerId: string): Promise<ContactPoint[]> {
  const rows = await db
    .selectFrom('contact_points')
    .select(['channel', 'address', 'consent', 'preferred'])
    .where('owner_type', '=', ownerType)
    .where('owner_id', '=', ownerId)
    .execute();
  return rows.map((r) => ({ channel: r.channel, address: r.address, consent: r.consent, preferred: r.preferred }));
}

/** Replaces a person's contact points whole (one row per channel) and writes the change to the audit log. */
export async function saveContactPoints(
  db: Db,
  owner: { type: 'patient' | 'practitioner'; id: string },
  points: ContactPoint[],
  by: string,
): Promise<void> {
  await inTransaction(db, LIMITS, async (tx) => {
    await tx.deleteFrom('contact_points').where('owner_type', '=', owner.type).where('owner_id', '=', owner.id).execute();
    if (points.length) {
      await tx
        .insertInto('contact_points')
        .values(
          points.map((p) => ({
            owner_type: owner.type,
            owner_id: owner.id,
            channel: p.channel,
            address: p.address,
            consent: p.consent,
            preferred: p.preferred,
            updated_by: by,
          })),
        )
        .execute();
    }
    // Which channels and consents, never the addresses: the audit log is read by ops.
    await tx
      .insertInto('audit_log')
      .values({
        actor: by,
        action: 'contact-points-changed',
        entity: owner.type,
        entity_id: owner.id,
        workflow_id: null,
        dedupe_key: null,
        details: JSON.stringify({ channels: points.map((p) => ({ channel: p.channel, consent: p.consent, preferred: p.preferred })) }),
      })
      .execute();
  });
}

export type RosterRole = 'covering' | 'head' | 'onboarding-lead';

/** Who is on call for a clinic's department in a role at an instant: the latest entry that covers it. */
export async function onCallAt(
  db: Db,
  q: { clinicId: string; department: string; role: RosterRole; at: Date },
): Promise<{ practitionerId: string; fullName: string } | null> {
  const row = await db
    .selectFrom('on_call_roster as r')
    .innerJoin('practitioners as p', 'p.id', 'r.practitioner_id')
    .select(['r.practitioner_id', 'p.full_name'])
    .where('r.clinic_id', '=', q.clinicId)
    .where('r.role', '=', q.role)
    .where('r.removed_at', 'is', null)
    .where((eb) => eb.or([eb('r.department', '=', q.department), eb('r.department', '=', '*')]))
    .where('r.starts_at', '<=', q.at)
    .where('r.ends_at', '>', q.at)
    // A department's own entry before the clinic-wide one ('*'), then the newest.
    .orderBy(sql`r.department = '*'`)
    .orderBy('r.created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { practitionerId: row.practitioner_id, fullName: row.full_name } : null;
}

export interface RosterEntryInput {
  clinicId: string;
  department: string;
  role: RosterRole;
  practitionerId: string;
  startsAt: string;
  endsAt: string;
}

export async function addRosterEntry(db: Db, e: RosterEntryInput, by: string): Promise<string> {
  return inTransaction(db, LIMITS, async (tx) => {
    const row = await tx
      .insertInto('on_call_roster')
      .values({
        clinic_id: e.clinicId,
        department: e.department,
        role: e.role,
        practitioner_id: e.practitionerId,
        starts_at: e.startsAt,
        ends_at: e.endsAt,
        created_by: by,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx
      .insertInto('audit_log')
      .values({
        actor: by,
        action: 'roster-added',
        entity: 'on-call-roster',
        entity_id: row.id,
        workflow_id: null,
        dedupe_key: null,
        details: JSON.stringify(e),
      })
      .execute();
    return row.id;
  });
}

/** Takes an entry off the roster (kept, marked removed) with an audit row; false when there is no such live entry. */
export async function removeRosterEntry(db: Db, id: string, by: string): Promise<boolean> {
  return inTransaction(db, LIMITS, async (tx) => {
    const done = await tx
      .updateTable('on_call_roster')
      .set({ removed_at: sql`now()` })
      .where('id', '=', id)
      .where('removed_at', 'is', null)
      .executeTakeFirst();
    if (!Number(done.numUpdatedRows)) return false;
    await tx
      .insertInto('audit_log')
      .values({
        actor: by,
        action: 'roster-removed',
        entity: 'on-call-roster',
        entity_id: id,
        workflow_id: null,
        dedupe_key: null,
        details: '{}',
      })
      .execute();
    return true;
  });
}

export async function listRoster(db: Db, clinicId: string) {
  return db
    .selectFrom('on_call_roster as r')
    .innerJoin('practitioners as p', 'p.id', 'r.practitioner_id')
    .select([
      'r.id',
      'r.department',
      'r.role',
      'r.practitioner_id',
      'p.full_name',
      'r.starts_at',
      'r.ends_at',
      'r.created_by',
      'r.created_at',
    ])
    .where('r.clinic_id', '=', clinicId)
    .where('r.removed_at', 'is', null)
    .orderBy('r.starts_at')
    .execute();
}

/**
 * A clinic's roster changes, newest first, removed entries included (the trail must show a removal), with the entry
 * each change names.
 */
export async function clinicRosterAudit(db: Db, clinicId: string, limit = 100) {
  return db
    .selectFrom('audit_log as a')
    .innerJoin('on_call_roster as r', (j) => j.on(sql<boolean>`r.id::text = a.entity_id`))
    .innerJoin('practitioners as p', 'p.id', 'r.practitioner_id')
    .select(['a.at', 'a.actor', 'a.action', 'a.entity_id', 'r.department', 'r.role', 'p.full_name', 'r.starts_at', 'r.ends_at'])
    .where('a.entity', '=', 'on-call-roster')
    .where('r.clinic_id', '=', clinicId)
    .orderBy('a.at', 'desc')
    .orderBy('a.id', 'desc')
    .limit(limit)
    .execute();
}

/** The deliveries of one appointment, lab order or referral: what was sent to whom on which channel, and how it went. */
export async function deliveriesFor(db: Db, ref: { appointmentId?: string; labOrderId?: string; referralId?: string }) {
  let q = db
    .selectFrom('deliveries')
    .select([
      'kind',
      'recipient_type',
      'recipient_id',
      'channel',
      'status',
      'reason',
      'attempts',
      'decided_at',
      'sent_at',
      'delivered_at',
      'failed_at',
    ]);
  if (ref.appointmentId) q = q.where('appointment_id', '=', ref.appointmentId);
  else if (ref.labOrderId) q = q.where('lab_order_id', '=', ref.labOrderId);
  else if (ref.referralId) q = q.where('referral_id', '=', ref.referralId);
  else return [];
  return q.orderBy('queued_at').execute();
}

/** An SMS gateway's delivery report, by its message id: the row's new status and the delivery it belongs to. */
export async function recordSmsReport(
  db: Db,
  providerId: string,
  outcome: 'delivered' | 'failed',
  reason: string | null,
): Promise<{ messageKey: string } | null> {
  const row = await db
    .updateTable('deliveries')
    .set(outcome === 'delivered' ? { status: 'delivered', delivered_at: sql`now()` } : { status: 'failed', failed_at: sql`now()`, reason })
    .where('channel', '=', 'sms')
    .where('provider_id', '=', providerId)
    .where('status', 'in', ['sent', 'sending'])
    .returning('message_key')
    .executeTakeFirst();
  return row ? { messageKey: row.message_key } : null;
}

/** Ops: deliveries that failed (a channel given up, or handed to ops), newest first; ids and reasons, no addresses. */
export async function failedDeliveries(db: Db, limit = 100) {
  return db
    .selectFrom('deliveries')
    .select([
      'id',
      'message_key',
      'kind',
      'recipient_type',
      'recipient_id',
      'channel',
      'reason',
      'attempts',
      'decided_at',
      'failed_at',
      'appointment_id',
      'lab_order_id',
      'referral_id',
    ])
    .where('status', '=', 'failed')
    .orderBy('failed_at', 'desc')
    .limit(limit)
    .execute();
}

/** Ops: patients a message could not reach on any channel (no consented channel left), with their latest such message. */
export async function unreachablePatients(db: Db, limit = 100) {
  return db
    .selectFrom('deliveries as d')
    .innerJoin('patients as p', 'p.id', 'd.recipient_id')
    .select([
      'd.recipient_id as patient_id',
      'p.home_clinic_id',
      sql<Date>`max(d.failed_at)`.as('last_at'),
      sql<string>`count(*)::int`.as('messages'),
    ])
    .where('d.channel', '=', 'ops')
    .where('d.recipient_type', '=', 'patient')
    .where('d.reason', '=', 'no-channel')
    .groupBy(['d.recipient_id', 'p.home_clinic_id'])
    .orderBy('last_at', 'desc')
    .limit(limit)
    .execute();
}

/** Per channel, kind and status: how many deliveries (for the metrics). */
export async function deliveryCounts(db: Db) {
  return db
    .selectFrom('deliveries')
    .select(['channel', 'kind', 'status', sql<string>`count(*)::int`.as('n')])
    .groupBy(['channel', 'kind', 'status'])
    .execute();
}

/** A person's in-app messages, newest first. */
export async function inboxMessages(db: Db, owner: { type: 'patient' | 'practitioner'; id: string }, limit = 100) {
  return db
    .selectFrom('inbox_messages')
    .select(['id', 'kind', 'subject', 'body', 'link', 'created_at', 'read_at'])
    .where('recipient_type', '=', owner.type)
    .where('recipient_id', '=', owner.id)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}

export type { Channel };
