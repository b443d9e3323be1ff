/**
 * Side effects of the referral workflow. Each runs in one transaction with statement and lock
 * timeouts below the activity's own 10 s, and records its step once (referral_events.dedupe_key),
 * so a retried activity never writes twice.
 */
import { sql, type Transaction } from 'kysely';
import type { Db } from '../db';
import { bookableSlot, bookingPolicy } from '../db/booking';
import { bookableOffers, slotOffer } from '../db/referral-offers';
import { decideStaffMessage } from '../db/staff-notify';
import type { Database } from '../db/schema';
import type { BookingPolicy } from '../domain/booking';
import type { ReferralStatus, ReportInput, SlotOffer } from '../domain/referral';
import { activityTransaction } from './tx';
import { refuse } from './errors';

type Tx = Transaction<Database>;

/** One transaction, bounded by this activity's own timeouts (activities/tx.ts). */
const inTx = activityTransaction;

/** Inserts the event; true when it is new (not a retry's second write). */
async function event(tx: Tx, e: { referralId: string; step: string; actor: string; key: string; details?: object }): Promise<boolean> {
  const row = await tx
    .insertInto('referral_events')
    .values({ referral_id: e.referralId, step: e.step, actor: e.actor, dedupe_key: e.key, details: JSON.stringify(e.details ?? {}) })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The escalation of an unbooked referral, told to a named person: the head of department on the
 * on-call roster of the referring clinic, for the referring doctor's department (the clinic-wide `*`
 * entry when the department has none). The registrar desk already sees it at the top of its queue;
 * the head is who can add capacity or authorise a booking elsewhere before the legal wait runs out.
 * The timeline event `staff-notified` names them (or nobody: the delivery then goes to ops).
 */
async function tellHeadOfDepartment(tx: Tx, input: StepInput, level: 1 | 2): Promise<void> {
  const referral = await tx
    .selectFrom('referrals as r')
    .leftJoin('practitioners as p', 'p.id', 'r.referring_practitioner_id')
    .select(['r.clinic_id', 'p.specialty'])
    .where('r.id', '=', input.referralId)
    .executeTakeFirstOrThrow();
  const told = await decideStaffMessage(tx, {
    kind: level === 1 ? 'referral-near-breach' : 'referral-breached',
    clinicId: referral.clinic_id,
    department: referral.specialty ?? '*',
    role: 'head',
    referralId: input.referralId,
    dedupeKey: `${input.workflowId}:staff:escalated:${level}`,
  });
  await event(tx, {
    referralId: input.referralId,
    step: 'staff-notified',
    actor: 'system',
    key: `${input.workflowId}:staff-notified:${level}`,
    details: { level, ...told },
  });
}

export interface StepInput {
  referralId: string;
  workflowId: string;
  step: string;
  /** The step's identity within the process (e.g. `booked:<appointmentId>`), so a retry records it once. */
  key: string;
  actor: string;
  status?: ReferralStatus;
  details?: object;
  set?: {
    appointmentId?: string | null;
    booked?: boolean;
    noShows?: number;
    cancelReason?: string;
    acknowledgedBy?: string;
    closed?: boolean;
    escalationLevel?: number;
    breached?: boolean;
  };
}

export function createReferralActivities(deps: { db: Db }) {
  const { db } = deps;

  return {
    /**
     * Finds slots of the referral's specialty (or its named practitioner) across the city's clinics
     * that its patient can book (db/referral-offers.ts: free, at a clinic taking bookings, not on a
     * closure day, not clashing with the patient's own visits), earliest first, before the referral's
     * validity ends; marks those before the deadline; records them as offered.
     */
    async offerSlots(input: {
      referralId: string;
      workflowId: string;
      specialty: string;
      targetPractitionerId: string | null;
      deadlineAt: string;
      validUntil: string;
      round: number;
      limit: number;
    }): Promise<SlotOffer[]> {
      return inTx(db, async (tx) => {
        const referral = await tx
          .selectFrom('referrals')
          .select(['patient_id', 'offered_slots'])
          .where('id', '=', input.referralId)
          .executeTakeFirstOrThrow();
        const rows = await bookableOffers(tx, {
          patientId: referral.patient_id,
          specialty: input.specialty,
          targetPractitionerId: input.targetPractitionerId,
          before: new Date(input.validUntil),
          limit: input.limit,
        });
        const offers = rows.map((r) => slotOffer(r, new Date(input.deadlineAt)));
        const fresh = await event(tx, {
          referralId: input.referralId,
          step: 'offered',
          actor: 'system',
          key: `${input.workflowId}:offered:${input.round}`,
          details: { slots: offers.length, withinDeadline: offers.filter((o) => o.withinDeadline).length },
        });
        if (!fresh) return referral.offered_slots as SlotOffer[];
        await tx
          .updateTable('referrals')
          .set({ status: 'offered', offered_slots: JSON.stringify(offers), updated_at: sql`now()` })
          .where('id', '=', input.referralId)
          .where('status', 'in', ['created', 'offered', 'booked'])
          .execute();
        return offers;
      });
    },

    /** The clinic and booking rules of the slot a referral books (refused when there is no such slot). */
    async bookingPolicyForSlot(input: { slotId: string }): Promise<{ clinicId: string; policy: BookingPolicy }> {
      const slot = await bookableSlot(db, input.slotId);
      if (!slot) throw refuse('SlotNotFound', `slot ${input.slotId} does not exist`);
      return { clinicId: slot.clinic_id, policy: await bookingPolicy(db, slot.clinic_id) };
    },

    /**
     * Records one step of the referral: its timeline event and the row's new status and fields, together.
     * A step that raises the escalation level (about to breach: level 1; breached: level 2) also tells the
     * head of department on the roster at that moment, in the same transaction (tellHeadOfDepartment).
     */
    async recordReferralStep(input: StepInput): Promise<void> {
      await inTx(db, async (tx) => {
        if (
          !(await event(tx, {
            referralId: input.referralId,
            step: input.step,
            actor: input.actor,
            key: `${input.workflowId}:${input.key}`,
            details: input.details,
          }))
        )
          return;
        const s = input.set ?? {};
        await tx
          .updateTable('referrals')
          .set({
            updated_at: sql`now()`,
            ...(input.status ? { status: input.status } : {}),
            ...(s.appointmentId !== undefined ? { appointment_id: s.appointmentId } : {}),
            ...(s.booked ? { booked_at: sql`now()` } : {}),
            ...(s.noShows !== undefined ? { no_shows: s.noShows } : {}),
            ...(s.cancelReason !== undefined ? { cancel_reason: s.cancelReason } : {}),
            ...(s.acknowledgedBy !== undefined ? { acknowledged_by: s.acknowledgedBy, acknowledged_at: sql`now()` } : {}),
            ...(s.closed ? { closed_at: sql`now()` } : {}),
            ...(s.escalationLevel !== undefined ? { escalation_level: sql`greatest(escalation_level, ${s.escalationLevel})` } : {}),
            ...(s.breached ? { breached: true } : {}),
          })
          .where('id', '=', input.referralId)
          .execute();
        if (s.escalationLevel === 1 || s.escalationLevel === 2) await tellHeadOfDepartment(tx, input, s.escalationLevel);
      });
    },

    /** Stores the specialist's report once (one per referral) and moves the referral to reported. */
    async recordReport(input: { referralId: string; workflowId: string; report: ReportInput }): Promise<void> {
      await inTx(db, async (tx) => {
        const r = input.report;
        await tx
          .insertInto('referral_reports')
          .values({
            referral_id: input.referralId,
            practitioner_id: r.practitionerId,
            patient_id: r.patientId,
            conclusion: r.conclusion,
            icd10: r.icd10,
            recommendations: r.recommendations,
          })
          .onConflict((oc) => oc.column('referral_id').doNothing())
          .execute();
        if (
          !(await event(tx, {
            referralId: input.referralId,
            step: 'reported',
            actor: `practitioner:${r.practitionerId}`,
            key: `${input.workflowId}:reported`,
            details: { icd10: r.icd10.length },
          }))
        )
          return;
        await tx
          .updateTable('referrals')
          .set({ status: 'reported', report_received_at: sql`now()`, updated_at: sql`now()` })
          .where('id', '=', input.referralId)
          .execute();
      });
    },
  };
}
