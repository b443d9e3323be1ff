/** Referral queries shared by the referral activities, the API, the seed and the clinical worker. */
import { sql } from 'kysely';
import { countedDeadlineAfter } from '../domain/calendar';
import {
  AWAITING_BOOKING,
  defaultReferralPolicy,
  fhirReferralStatus,
  referralWorkflowId,
  type ReferralInput,
  type ReferralKind,
  type ReferralPolicy,
  type ReferralStatus,
  type ReferralUrgency,
} from '../domain/referral';
import { reportCalendarGaps } from '../platform/calendar-watch';
import { clinicCalendar } from './calendar';
import type { Db } from './index';
import type { Referral, ReferralPolicyRow } from './schema';

/**
 * The waiting-time policy in force at `at` for a referral from this clinic: the latest version
 * (effective_from <= at) of the clinic's own rows, else of its region's, else city-wide, else the
 * production defaults. A referral's process takes the version in force when it was created.
 */
export async function referralPolicy(
  db: Db,
  clinicId: string,
  kind: ReferralKind,
  urgency: ReferralUrgency,
  at: Date = new Date(),
): Promise<ReferralPolicy> {
  const region = (await clinicCalendar(db, clinicId, at)).region ?? null;
  const row = await db
    .selectFrom('referral_policies')
    .selectAll()
    .where('kind', '=', kind)
    .where('urgency', '=', urgency)
    .where('effective_from', '<=', at)
    .where((eb) =>
      eb.or([
        eb('clinic_id', '=', clinicId),
        ...(region ? [eb.and([eb('clinic_id', 'is', null), eb('region', '=', region)])] : []),
        eb.and([eb('clinic_id', 'is', null), eb('region', 'is', null)]),
      ]),
    )
    .orderBy(sql`clinic_id IS NULL`)
    .orderBy(sql`region IS NULL`)
    .orderBy('effective_from', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? policyFromRow(row) : defaultReferralPolicy(kind, urgency);
}

/** A referral_policies row as the process's policy. */
type PolicyColumns =
  'wait_seconds' | 'wait_hours' | 'wait_working_days' | 'escalation_share' | 'acknowledge_seconds' | 'no_show_limit' | 'validity_days';

export function policyFromRow(row: Pick<ReferralPolicyRow, PolicyColumns>): ReferralPolicy {
  const wait =
    row.wait_seconds !== null
      ? { seconds: row.wait_seconds }
      : row.wait_hours !== null
        ? { hours: row.wait_hours }
        : { workingDays: row.wait_working_days! };
  return {
    wait,
    escalationShare: Number(row.escalation_share),
    acknowledgeSeconds: row.acknowledge_seconds,
    noShowLimit: row.no_show_limit,
    validityDays: row.validity_days,
  };
}

/** The deadline of a referral made at `createdAt` in this clinic under this policy (the calendar in force then, today's closures);
 * a count without decree data is reported. */
export async function referralDeadline(db: Db, clinicId: string, createdAt: Date, policy: ReferralPolicy): Promise<Date> {
  const counted = countedDeadlineAfter(createdAt, policy.wait, await clinicCalendar(db, clinicId, createdAt));
  reportCalendarGaps('referral', counted.yearsWithoutDecree);
  return counted.deadline;
}

/** The workflow's input for a referral row: its deadline and validity as stored, the policy in force when it was created. */
export async function referralStart(db: Db, row: Referral): Promise<ReferralInput> {
  return {
    referralId: row.id,
    patientId: row.patient_id,
    clinicId: row.clinic_id,
    referringPractitionerId: row.referring_practitioner_id!,
    specialty: row.specialty,
    targetPractitionerId: row.target_practitioner_id,
    kind: row.kind,
    urgency: row.urgency,
    createdAt: row.created_at.toISOString(),
    deadlineAt: row.deadline_at.toISOString(),
    validUntil: row.valid_until.toISOString(),
    policy: await referralPolicy(db, row.clinic_id, row.kind, row.urgency, row.created_at),
  };
}

export { referralWorkflowId };

/** Appends a step to a referral's timeline once per dedupe key. */
export async function recordEvent(db: Db, e: { referralId: string; step: string; actor: string; dedupeKey: string; details?: object }) {
  await db
    .insertInto('referral_events')
    .values({ referral_id: e.referralId, step: e.step, actor: e.actor, dedupe_key: e.dedupeKey, details: JSON.stringify(e.details ?? {}) })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .execute();
}

export async function referralTimeline(db: Db, referralId: string) {
  return db
    .selectFrom('referral_events')
    .select(['at', 'step', 'actor', 'details'])
    .where('referral_id', '=', referralId)
    .orderBy('at')
    .orderBy('id')
    .execute();
}

export interface ReferralFilter {
  clinicId?: string;
  status?: ReferralStatus;
  breached?: boolean;
  patientId?: string;
  limit: number;
  offset: number;
}

/** Referrals, newest first, paged by limit/offset. */
export async function listReferrals(db: Db, f: ReferralFilter) {
  return db
    .selectFrom('referrals')
    .selectAll()
    .$if(f.clinicId !== undefined, (q) => q.where('clinic_id', '=', f.clinicId!))
    .$if(f.status !== undefined, (q) => q.where('status', '=', f.status!))
    .$if(f.breached !== undefined, (q) => q.where('breached', '=', f.breached!))
    .$if(f.patientId !== undefined, (q) => q.where('patient_id', '=', f.patientId!))
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(f.limit)
    .offset(f.offset)
    .execute();
}

/** The registrar's work queue: a clinic's referrals awaiting booking, escalated first, then nearest deadline. */
export async function registrarQueue(db: Db, clinicId: string, limit: number, offset = 0) {
  return db
    .selectFrom('referrals')
    .selectAll()
    .where('clinic_id', '=', clinicId)
    .where('status', 'in', [...AWAITING_BOOKING])
    .orderBy('escalation_level', 'desc')
    .orderBy('deadline_at')
    .orderBy('id')
    .limit(limit)
    .offset(offset)
    .execute();
}

/** A referral row as the API shows it. */
export function referralView(r: Referral) {
  return {
    id: r.id,
    status: r.status,
    fhir: fhirReferralStatus(r.status, r.breached),
    patientId: r.patient_id,
    clinicId: r.clinic_id,
    referringPractitionerId: r.referring_practitioner_id,
    kind: r.kind,
    urgency: r.urgency,
    priority: r.priority,
    specialty: r.specialty,
    targetPractitionerId: r.target_practitioner_id,
    targetTest: r.target_test,
    icd10: r.icd10,
    reason: r.reason,
    deadlineAt: r.deadline_at.toISOString(),
    validUntil: r.valid_until.toISOString(),
    breached: r.breached,
    escalationLevel: r.escalation_level,
    appointmentId: r.appointment_id,
    bookedAt: r.booked_at?.toISOString() ?? null,
    offeredSlots: r.offered_slots as unknown[],
    noShows: r.no_shows,
    reportReceivedAt: r.report_received_at?.toISOString() ?? null,
    acknowledgedAt: r.acknowledged_at?.toISOString() ?? null,
    cancelReason: r.cancel_reason,
    closedAt: r.closed_at?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
  };
}
