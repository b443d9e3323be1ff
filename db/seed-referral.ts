/**
 * Demo referrals in several states, so the registrar queue and the Temporal UI show something on
 * first start: awaiting booking (fresh, escalated, breached, cancer-suspected) and history (closed
 * within and past the deadline, cancelled, expired). Open ones get their processes from the
 * clinical worker's startup (startOpenReferrals). Keyed by demo ids: seeding twice is harmless.
 */
import { defaultReferralPolicy, fhirPriority, referralWorkflowId, type ReferralStatus, type ReferralUrgency } from '../domain/referral';
import { nameUuid } from '../domain/ids';
import type { Db } from './index';
import { referralDeadline } from './referral';

const demoId = (key: string) => nameUuid('demo', key);
/** Specialty → its practitioner's index in each demo clinic (db/seed.ts SPECIALTIES). */
const SPECIALIST: Record<string, number> = { cardiology: 2, endocrinology: 3, neurology: 4, ophthalmology: 5 };
const DAY = 86_400_000;

interface DemoReferral {
  n: number;
  clinic: string;
  specialty: string;
  urgency: ReferralUrgency;
  patient: number;
  ageDays: number;
  status: ReferralStatus;
  bookedAfterDays?: number;
  icd10: string;
  reason: string;
}

const REFERRALS: DemoReferral[] = [
  {
    n: 1,
    clinic: 'PC-01',
    specialty: 'cardiology',
    urgency: 'routine',
    patient: 0,
    ageDays: 0.1,
    status: 'created',
    icd10: 'I10',
    reason: 'hypertension uncontrolled on two drugs',
  },
  {
    n: 2,
    clinic: 'PC-01',
    specialty: 'endocrinology',
    urgency: 'routine',
    patient: 8,
    ageDays: 1,
    status: 'created',
    icd10: 'E11.65',
    reason: 'type 2 diabetes, HbA1c rising',
  },
  {
    n: 3,
    clinic: 'PC-01',
    specialty: 'neurology',
    urgency: 'routine',
    patient: 16,
    ageDays: 12,
    status: 'created',
    icd10: 'G43.9',
    reason: 'migraine, more frequent attacks',
  },
  {
    n: 4,
    clinic: 'PC-01',
    specialty: 'cardiology',
    urgency: 'routine',
    patient: 24,
    ageDays: 30,
    status: 'created',
    icd10: 'I48.0',
    reason: 'paroxysmal atrial fibrillation',
  },
  {
    n: 5,
    clinic: 'PC-02',
    specialty: 'endocrinology',
    urgency: 'cancer-suspected',
    patient: 1,
    ageDays: 0.5,
    status: 'created',
    icd10: 'E04.1',
    reason: 'thyroid nodule, suspicious on ultrasound',
  },
  {
    n: 6,
    clinic: 'PC-02',
    specialty: 'ophthalmology',
    urgency: 'routine',
    patient: 9,
    ageDays: 3,
    status: 'created',
    icd10: 'H40.1',
    reason: 'raised intraocular pressure',
  },
  {
    n: 7,
    clinic: 'PC-01',
    specialty: 'cardiology',
    urgency: 'routine',
    patient: 32,
    ageDays: 40,
    status: 'closed',
    bookedAfterDays: 6,
    icd10: 'I25.1',
    reason: 'stable angina',
  },
  {
    n: 8,
    clinic: 'PC-02',
    specialty: 'neurology',
    urgency: 'routine',
    patient: 17,
    ageDays: 45,
    status: 'closed',
    bookedAfterDays: 25,
    icd10: 'M54.5',
    reason: 'low back pain with sciatica',
  },
  {
    n: 9,
    clinic: 'PC-03',
    specialty: 'ophthalmology',
    urgency: 'routine',
    patient: 25,
    ageDays: 20,
    status: 'closed',
    bookedAfterDays: 2,
    icd10: 'H25.9',
    reason: 'cataract',
  },
  {
    n: 10,
    clinic: 'PC-03',
    specialty: 'cardiology',
    urgency: 'routine',
    patient: 33,
    ageDays: 10,
    status: 'cancelled',
    icd10: 'R00.2',
    reason: 'palpitations',
  },
  {
    n: 11,
    clinic: 'PC-03',
    specialty: 'endocrinology',
    urgency: 'routine',
    patient: 41,
    ageDays: 50,
    status: 'expired',
    icd10: 'E66.9',
    reason: 'obesity',
  },
];

export const DEMO_REFERRAL_CREATOR = 'demo-seed';

export async function seedDemoReferrals(db: Db, now = new Date()): Promise<void> {
  for (const r of REFERRALS) {
    const id = demoId(`referral:${r.n}`);
    if (await db.selectFrom('referrals').select('id').where('id', '=', id).executeTakeFirst()) continue;
    const clinicId = demoId(`clinic:${r.clinic}`);
    const createdAt = new Date(now.getTime() - r.ageDays * DAY);
    const deadline = await referralDeadline(db, clinicId, createdAt, defaultReferralPolicy('specialist', r.urgency));
    const bookedAt = r.bookedAfterDays !== undefined ? new Date(createdAt.getTime() + r.bookedAfterDays * DAY) : null;
    const closedAt =
      r.status === 'closed'
        ? new Date(bookedAt!.getTime() + 3 * DAY)
        : r.status === 'cancelled'
          ? new Date(createdAt.getTime() + DAY)
          : r.status === 'expired'
            ? new Date(createdAt.getTime() + 30 * DAY)
            : null;
    const referrer = demoId(`practitioner:${r.clinic}:0`);
    await db.transaction().execute(async (tx) => {
      await tx
        .insertInto('referrals')
        .values({
          id,
          patient_id: demoId(`patient:${r.patient}`),
          clinic_id: clinicId,
          referring_practitioner_id: referrer,
          specialty: r.specialty,
          priority: fhirPriority(r.urgency),
          status: r.status,
          deadline_at: deadline,
          appointment_id: null,
          report_received_at: r.status === 'closed' ? new Date(bookedAt!.getTime() + DAY) : null,
          workflow_id: referralWorkflowId(id),
          created_by: DEMO_REFERRAL_CREATOR,
          created_at: createdAt,
          kind: 'specialist',
          urgency: r.urgency,
          icd10: r.icd10,
          reason: r.reason,
          target_practitioner_id: null,
          target_test: null,
          valid_until: new Date(createdAt.getTime() + (r.status === 'expired' ? 30 : 60) * DAY),
          breached: bookedAt !== null && bookedAt > deadline,
          escalation_level: bookedAt !== null && bookedAt > deadline ? 2 : 0,
          booked_at: bookedAt,
          acknowledged_at: r.status === 'closed' ? closedAt : null,
          acknowledged_by: r.status === 'closed' ? `doctor-${referrer}` : null,
          cancel_reason: r.status === 'cancelled' ? 'symptoms resolved' : null,
          closed_at: closedAt,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      if (r.status === 'closed') {
        await tx
          .insertInto('referral_reports')
          .values({
            referral_id: id,
            practitioner_id: demoId(`practitioner:${r.clinic}:${SPECIALIST[r.specialty]}`),
            patient_id: demoId(`patient:${r.patient}`),
            conclusion: 'Seen; findings in keeping with the referral diagnosis.',
            icd10: [r.icd10],
            recommendations: 'Continue treatment; review in 6 months.',
          })
          .onConflict((oc) => oc.column('referral_id').doNothing())
          .execute();
      }
      const events: Array<[string, Date | null]> = [
        ['created', createdAt],
        ['booked', bookedAt],
        ['reported', r.status === 'closed' ? new Date(bookedAt!.getTime() + DAY) : null],
        ['acknowledged', r.status === 'closed' ? closedAt : null],
        [r.status, r.status === 'created' ? null : closedAt],
        // A referral booked after its deadline was flagged at the deadline (what its process records).
        ['breached-escalated-head-of-department', bookedAt !== null && bookedAt > deadline ? deadline : null],
      ];
      for (const [step, at] of events) {
        if (!at) continue;
        await tx
          .insertInto('referral_events')
          .values({
            referral_id: id,
            at,
            step,
            actor: DEMO_REFERRAL_CREATOR,
            dedupe_key: `${referralWorkflowId(id)}:seed:${step}`,
            details: '{}',
          })
          .onConflict((oc) => oc.column('dedupe_key').doNothing())
          .execute();
      }
    });
  }
}
