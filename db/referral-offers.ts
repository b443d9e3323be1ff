/**
 * Slots a referral may offer its patient: only slots the patient can book now. Shared by the
 * referral's offerSlots activity (what it records) and the API (what it shows): a recorded offer
 * that someone has booked since, or that now clashes with the patient's own visit, is no longer
 * shown, and the list is topped up with the next bookable slots.
 */
import { sql, type Transaction } from 'kysely';
import { DEFAULT_BOOKING_POLICY, LIVE_STATUSES } from '../domain/booking';
import { BOOKABLE_STAGES } from '../domain/onboarding';
import { AWAITING_BOOKING, REFERRAL_OFFER_LIMIT, type SlotOffer } from '../domain/referral';
import { localDateTime } from '../domain/time';
import type { Db } from './index';
import type { Database, Referral } from './schema';

type Q = Db | Transaction<Database>;

export interface OfferSearch {
  patientId: string;
  specialty: string;
  targetPractitionerId: string | null;
  /** The referral's validity end: later slots are not offered. */
  before: Date;
  limit: number;
  /** Only these slots (re-checking recorded offers). */
  only?: string[];
  /** Not these slots (topping up). */
  exclude?: string[];
}

/** An offer as the API shows it: where, with whom, and when on the clinic's wall clock. */
export interface OfferView extends SlotOffer {
  clinicName: string;
  practitionerName: string;
  endsAt: string;
  /** 'YYYY-MM-DDTHH:mm' in the clinic's zone. */
  localStartsAt: string;
  timeZone: string;
}

/**
 * Slots of the specialty (or the named practitioner) the patient can book now, earliest first: free,
 * not taken by a live appointment, at a clinic that takes bookings (pilot or live), not on one of its
 * closure days, inside its booking horizon, not overlapping any live visit of the patient, and not
 * past the patient's limit of active visits in that specialty. The same rules holdSlot enforces.
 */
export async function bookableOffers(q: Q, s: OfferSearch) {
  if (s.only?.length === 0) return [];
  const live = [...LIVE_STATUSES];
  return q
    .selectFrom('slots as s')
    .innerJoin('practitioners as p', 'p.id', 's.practitioner_id')
    .innerJoin('clinics as c', 'c.id', 's.clinic_id')
    .leftJoin('booking_policies as bp', 'bp.clinic_id', 's.clinic_id')
    .select([
      's.id',
      's.practitioner_id',
      's.clinic_id',
      's.starts_at',
      's.ends_at',
      'p.full_name as practitioner_name',
      'c.name as clinic_name',
      'c.time_zone',
    ])
    .where('c.rollout_stage', 'in', [...BOOKABLE_STAGES])
    .where('s.status', '=', 'free')
    .where('s.starts_at', '>', sql<Date>`now()`)
    .where('s.starts_at', '<', s.before)
    .where(sql<boolean>`s.starts_at <= now() + make_interval(days => coalesce(bp.horizon_days, ${DEFAULT_BOOKING_POLICY.horizonDays}))`)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('appointments as a').select('a.id').whereRef('a.slot_id', '=', 's.id').where('a.status', 'in', live))),
    )
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('appointments as a')
            .select('a.id')
            .where('a.patient_id', '=', s.patientId)
            .where('a.status', 'in', live)
            .where(sql<boolean>`tstzrange(a.starts_at, a.ends_at) && tstzrange(s.starts_at, s.ends_at)`),
        ),
      ),
    )
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('clinic_closures as k')
            .select('k.clinic_id')
            .whereRef('k.clinic_id', '=', 's.clinic_id')
            .where(sql<boolean>`k.closed_on = (s.starts_at AT TIME ZONE c.time_zone)::date`),
        ),
      ),
    )
    .where(
      sql<boolean>`(SELECT count(*) FROM appointments a2 JOIN practitioners p2 ON p2.id = a2.practitioner_id
      WHERE a2.patient_id = ${s.patientId} AND p2.specialty = p.specialty AND a2.status IN ('held', 'offered', 'booked') AND a2.starts_at > now())
      < coalesce(bp.max_active_per_specialty, ${DEFAULT_BOOKING_POLICY.maxActivePerSpecialty})`,
    )
    .$if(s.targetPractitionerId !== null, (w) => w.where('s.practitioner_id', '=', s.targetPractitionerId!))
    .$if(s.targetPractitionerId === null, (w) => w.where('p.specialty', '=', s.specialty))
    .$if(s.only !== undefined, (w) => w.where('s.id', 'in', s.only!))
    .$if((s.exclude?.length ?? 0) > 0, (w) => w.where('s.id', 'not in', s.exclude!))
    .orderBy('s.starts_at')
    .orderBy('s.id')
    .limit(s.limit)
    .execute();
}

type OfferRow = Awaited<ReturnType<typeof bookableOffers>>[number];

/** A found slot as the offer the workflow records. */
export function slotOffer(r: OfferRow, deadlineAt: Date): SlotOffer {
  return {
    slotId: r.id,
    practitionerId: r.practitioner_id,
    clinicId: r.clinic_id,
    startsAt: r.starts_at.toISOString(),
    withinDeadline: r.starts_at.getTime() <= deadlineAt.getTime(),
  };
}

function offerView(r: OfferRow, deadlineAt: Date): OfferView {
  return {
    ...slotOffer(r, deadlineAt),
    clinicName: r.clinic_name,
    practitionerName: r.practitioner_name,
    endsAt: r.ends_at.toISOString(),
    localStartsAt: localDateTime(r.starts_at, r.time_zone),
    timeZone: r.time_zone,
  };
}

/**
 * The offers a referral awaiting booking shows now: those recorded by its process that the patient
 * can still book, topped up to the offer limit with the next bookable slots. A referral past
 * booking shows none. Read-only: the process records its own offers (referral_events 'offered').
 */
export async function currentOffers(db: Q, r: Referral): Promise<OfferView[]> {
  if (!AWAITING_BOOKING.includes(r.status)) return [];
  const search = { patientId: r.patient_id, specialty: r.specialty, targetPractitionerId: r.target_practitioner_id, before: r.valid_until };
  const recorded = ((r.offered_slots ?? []) as SlotOffer[]).map((o) => o.slotId);
  const still = await bookableOffers(db, { ...search, limit: REFERRAL_OFFER_LIMIT, only: recorded });
  const more =
    still.length < REFERRAL_OFFER_LIMIT
      ? await bookableOffers(db, { ...search, limit: REFERRAL_OFFER_LIMIT - still.length, exclude: still.map((s) => s.id) })
      : [];
  return [...still, ...more]
    .sort((a, b) => a.starts_at.getTime() - b.starts_at.getTime() || a.id.localeCompare(b.id))
    .map((x) => offerView(x, r.deadline_at));
}
