/**
 * Slots a referral may offer its patient: only slots the patient can book now. Shared by the
 * referral's offerSlots activity (what it records) and the API (what it shows): a recorded offer
 * that someone has booked since, or that now clashes with the patient's own visit, is no longer
 * shown, and the list is topped up with the next bookable slots.
 */
import { type RawBuilder, sql, type Transaction } from 'kysely';
import { DEFAULT_BOOKING_POLICY, LIVE_STATUSES } from '../domain/booking';
import { BOOKABLE_STAGES } from '../domain/onboarding';
import { AWAITING_BOOKING, REFERRAL_OFFER_LIMIT, type SlotOffer } from '../domain/referral';
import { localDateTime } from '../domain/time';
import { type Db, prepared } from './index';
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

/** One row a slot search answers. */
export interface OfferRow {
  id: string;
  practitioner_id: string;
  clinic_id: string;
  starts_at: Date;
  ends_at: Date;
  practitioner_name: string;
  clinic_name: string;
  time_zone: string;
}

/**
 * Slots of the specialty (or the named practitioner) the patient can book now, earliest first: free,
 * not taken by a live appointment, at a clinic that takes bookings (pilot or live), not on one of its
 * closure days, inside its booking horizon, not overlapping any live visit of the patient, and not
 * past the patient's limit of active visits in that specialty. The same rules holdSlot enforces.
 * Many searches run as one statement (a LATERAL per search), so a list of referrals costs one round
 * trip and one plan instead of two per row; `prefer` slots come first (then earliest first) within a search's limit.
 *
 * Why two branches: each practitioner's slots are walked in time order (its (practitioner, starts_at) index) and the
 * walk stops at the search's limit, so a search reads a few dozen slots, not every free slot of the specialty
 * (ranking them all cost ~4 ms a referral and kept the desk's referral queue over its 100 ms goal). Slots named by
 * id (`prefer`, `only`) are fetched by id and checked by the same rules.
 */
export async function bookableOffersFor(q: Q, searches: (OfferSearch & { prefer?: string[] })[]): Promise<OfferRow[][]> {
  const terms = searches.map((s, n) => ({
    n,
    patient_id: s.patientId,
    specialty: s.specialty,
    target_practitioner_id: s.targetPractitionerId,
    before: s.before.toISOString(),
    lim: s.only?.length === 0 ? 0 : s.limit,
    only_ids: s.only ?? null,
    exclude_ids: s.exclude ?? null,
    prefer_ids: s.prefer ?? [],
  }));
  if (terms.every((t) => t.lim === 0)) return searches.map(() => []);
  const live = sql.join([...LIVE_STATUSES]);
  const bookableStages = sql.join([...BOOKABLE_STAGES]);
  // Columns and joins of an offered slot `s` of practitioner `p`, and the rules it must pass (search `r`, the patient's count `pa`).
  const offered = (
    slots: RawBuilder<unknown>,
  ) => sql`s.id, s.practitioner_id, s.clinic_id, s.starts_at, s.ends_at, p.full_name AS practitioner_name, c.name AS clinic_name, c.time_zone,
      s.id = ANY(r.prefer_ids) AS preferred
    FROM ${slots} s JOIN clinics c ON c.id = s.clinic_id LEFT JOIN booking_policies bp ON bp.clinic_id = s.clinic_id`;
  const bookable = sql`c.rollout_stage IN (${bookableStages})
         AND s.status = 'free'
         AND s.starts_at > now()
         AND s.starts_at < r.before
         AND s.starts_at <= now() + make_interval(days => coalesce(bp.horizon_days, ${DEFAULT_BOOKING_POLICY.horizonDays}))
         AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = s.id AND a.status IN (${live}))
         AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.patient_id = r.patient_id AND a.status IN (${live})
                           AND tstzrange(a.starts_at, a.ends_at) && tstzrange(s.starts_at, s.ends_at))
         AND NOT EXISTS (SELECT 1 FROM clinic_closures k WHERE k.clinic_id = s.clinic_id AND k.closed_on = (s.starts_at AT TIME ZONE c.time_zone)::date)
         AND pa.active < coalesce(bp.max_active_per_specialty, ${DEFAULT_BOOKING_POLICY.maxActivePerSpecialty})
         AND (r.exclude_ids IS NULL OR s.id <> ALL(r.exclude_ids))`;
  const ofSearch = sql`(p.id = r.target_practitioner_id OR (r.target_practitioner_id IS NULL AND p.specialty = r.specialty))`;
  const { rows } = await sql<OfferRow & { n: number }>`${prepared('bookable-offers')}
    SELECT r.n, o.id, o.practitioner_id, o.clinic_id, o.starts_at, o.ends_at, o.practitioner_name, o.clinic_name, o.time_zone
      FROM jsonb_to_recordset(${JSON.stringify(terms)}::jsonb) AS r(
      n int, patient_id uuid, specialty text, target_practitioner_id uuid, before timestamptz, lim int,
      only_ids uuid[], exclude_ids uuid[], prefer_ids uuid[])
    -- The patient's active visits in the search's specialty (the named practitioner's, else the referral's).
    CROSS JOIN LATERAL (
      SELECT count(*) AS active FROM appointments a2 JOIN practitioners p2 ON p2.id = a2.practitioner_id
       WHERE a2.patient_id = r.patient_id AND a2.status IN ('held', 'offered', 'booked') AND a2.starts_at > now()
         AND p2.specialty = coalesce((SELECT t.specialty FROM practitioners t WHERE t.id = r.target_practitioner_id), r.specialty)
    ) pa
    CROSS JOIN LATERAL (
      SELECT * FROM (
        -- Each practitioner of the search at a bookable clinic (OFFSET 0: chosen before any slot is read), walked earliest first up to the limit.
        SELECT w.* FROM (
          SELECT p.* FROM practitioners p JOIN clinics pc ON pc.id = p.clinic_id
           WHERE pc.rollout_stage IN (${bookableStages}) AND ${ofSearch} AND r.only_ids IS NULL
          OFFSET 0
        ) p
        CROSS JOIN LATERAL (
          SELECT ${offered(sql`slots`)}
           WHERE s.practitioner_id = p.id AND NOT (s.id = ANY(r.prefer_ids)) AND ${bookable}
           ORDER BY s.starts_at LIMIT r.lim
        ) w
        UNION ALL
        -- Slots named by id, found by id first.
        SELECT ${offered(sql`(SELECT * FROM slots WHERE id = ANY(coalesce(r.only_ids, r.prefer_ids)) OFFSET 0)`)}
          JOIN practitioners p ON p.id = s.practitioner_id
         WHERE ${ofSearch} AND ${bookable}
      ) o
      ORDER BY o.preferred DESC, o.starts_at, o.id
      LIMIT r.lim
    ) o
    ORDER BY r.n`.execute(q);
  const found: OfferRow[][] = searches.map(() => []);
  for (const { n, ...row } of rows) found[n]!.push(row);
  return found;
}

/** One search of bookableOffersFor: the slots the referral's process offers (offerSlots). */
export async function bookableOffers(q: Q, s: OfferSearch): Promise<OfferRow[]> {
  return (await bookableOffersFor(q, [s]))[0]!;
}

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
 * The offers each referral awaiting booking shows now: those recorded by its process that the patient
 * can still book, topped up to the offer limit with the next bookable slots. A referral past
 * booking shows none. Read-only: the process records its own offers (referral_events 'offered').
 * One statement for the whole list (bookableOffersFor).
 */
export async function currentOffersOf(db: Q, rows: Referral[]): Promise<OfferView[][]> {
  const waiting = rows.map((r) => AWAITING_BOOKING.includes(r.status));
  const found = await bookableOffersFor(
    db,
    rows.flatMap((r, i) =>
      waiting[i]
        ? [
            {
              patientId: r.patient_id,
              specialty: r.specialty,
              targetPractitionerId: r.target_practitioner_id,
              before: r.valid_until,
              limit: REFERRAL_OFFER_LIMIT,
              prefer: ((r.offered_slots ?? []) as SlotOffer[]).map((o) => o.slotId),
            },
          ]
        : [],
    ),
  );
  let next = 0;
  return rows.map((r, i) =>
    waiting[i]
      ? found[next++]!.sort((a, b) => a.starts_at.getTime() - b.starts_at.getTime() || a.id.localeCompare(b.id)).map((x) =>
          offerView(x, r.deadline_at),
        )
      : [],
  );
}

/** The offers one referral shows now (currentOffersOf for one). */
export async function currentOffers(db: Q, r: Referral): Promise<OfferView[]> {
  return (await currentOffersOf(db, [r]))[0]!;
}
