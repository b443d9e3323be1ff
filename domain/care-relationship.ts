/**
 * The care relationship: when a doctor or registrar may open a patient's record without
 * break-the-glass. Written once here; db/audit.ts evaluates the same rule in one query, with the
 * statuses and cut-off instants taken from this module. Pure: the caller passes `now`.
 *
 * A relationship exists while one of these holds:
 * - a visit that is booked, arrived or fulfilled, with the doctor (a registrar: at their clinic),
 *   from its booking until VISIT_AFTER_DAYS after the visit ends; a hold (held, offered) only
 *   while it is live (its hold has not expired);
 * - a referral from or to the doctor (a registrar: of or for their clinic) that is open, or was
 *   closed within REFERRAL_CLOSED_DAYS;
 * - a lab order the doctor placed, until ORDER_ACKNOWLEDGED_DAYS after its results were
 *   acknowledged (cancelled orders grant nothing);
 * - the patient's attachment (registered polyclinic) to the caller's clinic, while it lasts.
 * Lapsed holds, cancelled, no-show and expired visits, cancelled and expired referrals grant nothing. Audit rows never grant anything. Everything else is break-the-glass.
 */
import type { BookingStatus } from './booking';
import type { LabOrderStatus } from './lab-order';
import type { ReferralStatus } from './referral';

export interface CarePolicy {
  /** A visit grants access from its booking until this many days after it ends. */
  visitAfterDays: number;
  /** A closed referral grants access this many days after it closed. */
  referralClosedDays: number;
  /** An order grants access this many days after its results were acknowledged. */
  orderAcknowledgedDays: number;
}

/** Production defaults (a follow-up visit, a specialist's report read, a result acted on). */
export const CARE_POLICY: Readonly<CarePolicy> = Object.freeze({ visitAfterDays: 90, referralClosedDays: 30, orderAcknowledgedDays: 30 });

export const VISIT_STATUSES_THAT_GRANT: readonly BookingStatus[] = ['booked', 'arrived', 'fulfilled'];
/** A hold grants only while it is live (hold_expires_at in the future); once lapsed or cancelled, nothing. */
export const HOLD_STATUSES: readonly BookingStatus[] = ['held', 'offered'];
export const OPEN_REFERRAL_STATUSES: readonly ReferralStatus[] = ['created', 'offered', 'booked', 'attended', 'reported'];
/** Closed after the report was acknowledged: grants for a while. Cancelled and expired grant nothing. */
export const CLOSED_REFERRAL_STATUS: ReferralStatus = 'closed';
export const ORDER_STATUSES_THAT_NEVER_GRANT: readonly LabOrderStatus[] = ['cancelled'];

const DAY_MS = 86_400_000;

/** The instants before which a visit's end, a referral's closing or an order's acknowledgement no longer grants. */
export interface CareCutoffs {
  visitEndedAfter: Date;
  referralClosedAfter: Date;
  orderAcknowledgedAfter: Date;
}

export function careCutoffs(now: Date, policy: CarePolicy = CARE_POLICY): CareCutoffs {
  const before = (days: number) => new Date(now.getTime() - days * DAY_MS);
  return {
    visitEndedAfter: before(policy.visitAfterDays),
    referralClosedAfter: before(policy.referralClosedDays),
    orderAcknowledgedAfter: before(policy.orderAcknowledgedDays),
  };
}

/** Who asks: a doctor (their practitioner id and clinic) or a registrar (the clinics on the token). */
export interface CareSubject {
  practitionerId: string | null;
  clinicIds: readonly string[];
}

export interface VisitFact {
  status: BookingStatus;
  practitionerId: string;
  clinicId: string;
  endsAt: Date;
  holdExpiresAt?: Date | null;
}
export interface ReferralFact {
  status: ReferralStatus;
  closedAt: Date | null;
  referringPractitionerId: string | null;
  targetPractitionerId: string | null;
  /** The referring clinic, the named practitioner's clinic and the booked visit's clinic. */
  clinicIds: readonly (string | null)[];
}
export interface OrderFact {
  status: LabOrderStatus;
  orderingPractitionerId: string;
  acknowledgedAt: Date | null;
}
export interface AttachmentFact {
  clinicId: string;
  from: Date;
  until: Date | null;
}

export interface CareFacts {
  visits: VisitFact[];
  referrals: ReferralFact[];
  orders: OrderFact[];
  attachments: AttachmentFact[];
}

/** The reason a relationship exists, or null: the rule the db query implements. */
export function careRelationship(subject: CareSubject, facts: CareFacts, now: Date, policy: CarePolicy = CARE_POLICY): string | null {
  const cut = careCutoffs(now, policy);
  const doctor = subject.practitionerId;
  // A doctor's relationship is personal; a registrar's is their clinic's.
  const mine = (practitionerId: string | null, clinicIds: readonly (string | null)[]) =>
    doctor ? practitionerId === doctor : clinicIds.some((c) => c !== null && subject.clinicIds.includes(c));

  if (facts.visits.some((v) => visitGrants(v, cut, now) && mine(v.practitionerId, [v.clinicId]))) return 'visit';
  if (
    facts.referrals.some(
      (r) =>
        referralGrants(r, cut) &&
        (doctor
          ? r.referringPractitionerId === doctor || r.targetPractitionerId === doctor
          : r.clinicIds.some((c) => c !== null && subject.clinicIds.includes(c))),
    )
  )
    return 'referral';
  if (doctor && facts.orders.some((o) => o.orderingPractitionerId === doctor && orderGrants(o, cut))) return 'lab-order';
  if (facts.attachments.some((a) => subject.clinicIds.includes(a.clinicId) && a.from <= now && (a.until === null || a.until > now)))
    return 'attachment';
  return null;
}

function visitGrants(v: VisitFact, cut: CareCutoffs, now: Date): boolean {
  if (VISIT_STATUSES_THAT_GRANT.includes(v.status)) return v.endsAt > cut.visitEndedAfter;
  return HOLD_STATUSES.includes(v.status) && !!v.holdExpiresAt && v.holdExpiresAt > now;
}

function referralGrants(r: ReferralFact, cut: CareCutoffs): boolean {
  if (OPEN_REFERRAL_STATUSES.includes(r.status)) return true;
  return r.status === CLOSED_REFERRAL_STATUS && r.closedAt !== null && r.closedAt > cut.referralClosedAfter;
}

function orderGrants(o: OrderFact, cut: CareCutoffs): boolean {
  if (ORDER_STATUSES_THAT_NEVER_GRANT.includes(o.status)) return false;
  return o.acknowledgedAt === null || o.acknowledgedAt > cut.orderAcknowledgedAfter;
}
