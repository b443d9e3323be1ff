/** Referral queries shared by the referral activities, the API, the seed and the clinical worker. */
import { sql } from 'kysely';
import { deadlineAfter } from '../domain/calendar';
import {
  AWAITING_BOOKING, defaultReferralPolicy, fhirReferralStatus, referralWorkflowId,
  type ReferralInput, type ReferralKind, type ReferralPolicy, type ReferralStatus, type ReferralUrgency,
} from '../domain/referral';
import { clinicCalendar } from './calendar';
import type { Db } from './index';
import type { Referral } from './schema';

/**
 * The waiting-time policy for a referral from this clinic: the clinic's own row, else its region's,
 * else the production defaults.
 */
export async function referralPolicy(db: Db, clinicId: string, kind: ReferralKind, urgency: ReferralUrgency): Promise<ReferralPolicy> {
  const region = (await db.selectFrom('clinic_calendars').select('region').where('clinic_id', '=', clinicId).executeTakeFirst())?.region ?? null;
  const row = await db.selectFrom('referral_policies').selectAll()
    .where('kind', '=', kind).where('urgency', '=', urgency)
    .where((eb) => eb.or([eb('clinic_id', '=', clinicId), ...(region ? [eb.and([eb('clinic_id', 'is', null), eb('region', '=', region)])] : [])]))
    .orderBy(sql`clinic_id IS NULL`).limit(1).executeTakeFirst();
  if (!row) return defaultReferralPolicy(kind, urgency);
  const wait = row.wait_seconds !== null ? { seconds: row.wait_seconds } : row.wait_hours !== null ? { hours: row.wait_hours } : { workingDays: row.wait_working_days! };
  return { wait, escalationShare: Number(row.escalation_share), acknowledgeSeconds: row.acknowledge_seconds, noShowLimit: row.no_show_limit, validityDays: row.validity_days };
}

/** The deadline of a referral made at `createdAt` in this clinic under this policy. */
export async function referralDeadline(db: Db, clinicId: string, createdAt: Date, policy: ReferralPolicy): Promise<Date> {
  return deadlineAfter(createdAt, policy.wait, await clinicCalendar(db, clinicId));
}

/** The workflow's input for a referral row (its deadline and validity as stored). */
export async function referralStart(db: Db, row: Referral): Promise<ReferralInput> {
  return {
    referralId: row.id, patientId: row.patient_id, clinicId: row.clinic_id, referringPractitionerId: row.referring_practitioner_id!,
    specialty: row.specialty, targetPractitionerId: row.target_practitioner_id, kind: row.kind, urgency: row.urgency,
    createdAt: row.created_at.toISOString(), deadlineAt: row.deadline_at.toISOString(), validUntil: row.valid_until.toISOString(),
    policy: await referralPolicy(db, row.clinic_id, row.kind, row.urgency),
  };
}

export { referralWorkflowId };

/** Appends a step to a referral's timeline once per dedupe key. */
export async function recordEvent(db: Db, e: { referralId: string; step: string; actor: string; dedupeKey: string; details?: object }) {
  await db.insertInto('referral_events')
    .values({ referral_id: e.referralId, step: e.step, actor: e.actor, dedupe_key: e.dedupeKey, details: JSON.stringify(e.details ?? {}) })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .execute();
}

export async function referralTimeline(db: Db, referralId: string) {
  return db.selectFrom('referral_events').select(['at', 'step', 'actor', 'details']).where('referral_id', '=', referralId).orderBy('at').orderBy('id').execute();
}

export interface ReferralFilter { clinicId?: string; status?: ReferralStatus; breached?: boolean; patientId?: string; limit: number; offset: number }

/** Referrals, newest first, paged by limit/offset. */
export async function listReferrals(db: Db, f: ReferralFilter) {
  return db.selectFrom('referrals').selectAll()
    .$if(f.clinicId !== undefined, (q) => q.where('clinic_id', '=', f.clinicId!))
    .$if(f.status !== undefined, (q) => q.where('status', '=', f.status!))
    .$if(f.breached !== undefined, (q) => q.where('breached', '=', f.breached!))
    .$if(f.patientId !== undefined, (q) => q.where('patient_id', '=', f.patientId!))
    .orderBy('created_at', 'desc').orderBy('id').limit(f.limit).offset(f.offset).execute();
}

/** The registrar's work queue: a clinic's referrals awaiting booking, escalated first, then nearest deadline. */
export async function registrarQueue(db: Db, clinicId: string, limit: number, offset = 0) {
  return db.selectFrom('referrals').selectAll()
    .where('clinic_id', '=', clinicId).where('status', 'in', [...AWAITING_BOOKING])
    .orderBy('escalation_level', 'desc').orderBy('deadline_at').orderBy('id').limit(limit).offset(offset).execute();
}

/** A referral row as the API shows it. */
export function referralView(r: Referral) {
  return {
    id: r.id, status: r.status, fhir: fhirReferralStatus(r.status, r.breached), patientId: r.patient_id, clinicId: r.clinic_id,
    referringPractitionerId: r.referring_practitioner_id, kind: r.kind, urgency: r.urgency, priority: r.priority, specialty: r.specialty,
    targetPractitionerId: r.target_practitioner_id, targetTest: r.target_test, icd10: r.icd10, reason: r.reason,
    deadlineAt: r.deadline_at.toISOString(), validUntil: r.valid_until.toISOString(), breached: r.breached, escalationLevel: r.escalation_level,
    appointmentId: r.appointment_id, bookedAt: r.booked_at?.toISOString() ?? null, offeredSlots: r.offered_slots as unknown[],
    noShows: r.no_shows, reportReceivedAt: r.report_received_at?.toISOString() ?? null, acknowledgedAt: r.acknowledged_at?.toISOString() ?? null,
    cancelReason: r.cancel_reason, closedAt: r.closed_at?.toISOString() ?? null, createdAt: r.created_at.toISOString(),
  };
}
