/**
 * What the lab bench and the doctor's tablet show beside the API's answers: the entry form's tests
 * (catalogue name, unit and the units it converts from), the CDS cards stored on orders, and which
 * referrals wait for a doctor (to report on, or to acknowledge). Reads only; access is checked by
 * the API's rules before anything here is shown.
 */
import { expandTests, loadCatalogue } from './lab-order';
import type { Db } from './index';

export interface EntryTest {
  loinc: string;
  name: string;
  unit: string;
  units: string[];
}

/** The order's tests (panels expanded) as the results form lists them, in the order's order. */
export async function entryTests(db: Db, codes: string[]): Promise<EntryTest[]> {
  const { loincs } = await expandTests(db, codes);
  const catalogue = await loadCatalogue(db, loincs);
  return loincs.flatMap((loinc) => {
    const t = catalogue.find((x) => x.loinc === loinc);
    return t ? [{ loinc, name: t.name, unit: t.unit, units: [t.unit, ...t.altUnits.map((u) => u.unit).filter((u) => u !== t.unit)] }] : [];
  });
}

export interface CdsCard {
  summary?: string;
  indicator?: string;
  detail?: string;
  source?: { label?: string };
}

/** The latest round's CDS cards per order. */
export async function latestCdsCards(db: Db, orderIds: string[]): Promise<Map<string, CdsCard[]>> {
  if (!orderIds.length) return new Map();
  const rows = await db
    .selectFrom('lab_cds_cards')
    .select(['lab_order_id', 'round', 'cards'])
    .where('lab_order_id', 'in', orderIds)
    .orderBy('round', 'desc')
    .execute();
  const out = new Map<string, CdsCard[]>();
  for (const r of rows) if (!out.has(r.lab_order_id)) out.set(r.lab_order_id, Array.isArray(r.cards) ? (r.cards as CdsCard[]) : []);
  return out;
}

/** Referrals waiting for this doctor: a report on a visit they hold, or the acknowledgement of a report on one they made. */
export async function referralWork(db: Db, practitionerId: string, limit = 50) {
  return db
    .selectFrom('referrals as r')
    .leftJoin('appointments as a', 'a.id', 'r.appointment_id')
    .innerJoin('patients as p', 'p.id', 'r.patient_id')
    .select([
      'r.id',
      'r.status',
      'r.specialty',
      'r.patient_id',
      'p.full_name as patient_name',
      'a.starts_at',
      'r.referring_practitioner_id',
    ])
    .where((eb) =>
      eb.or([
        eb.and([eb('a.practitioner_id', '=', practitionerId), eb('r.status', 'in', ['booked', 'attended'])]),
        eb.and([eb('r.referring_practitioner_id', '=', practitionerId), eb('r.status', '=', 'reported')]),
      ]),
    )
    .orderBy('a.starts_at')
    .limit(limit)
    .execute();
}

/** The referral's report, once posted. */
export async function referralReport(db: Db, referralId: string) {
  return db.selectFrom('referral_reports').selectAll().where('referral_id', '=', referralId).executeTakeFirst();
}
