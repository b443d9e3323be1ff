/**
 * The CDS rules layer, beside the model: eGFR from creatinine (CKD-EPI 2021), its KDIGO category,
 * interpretation flags from reference ranges, and the duplicate-order review for order-sign.
 * Pure and deterministic (no I/O, no clock: "now" is passed in); each rule returns CDS Hooks cards.
 */
import { card, fmt, type CdsCard } from './cards';

import type { ReferenceSex } from '../patient';

export type Flag = 'N' | 'L' | 'H' | 'LL' | 'HH';
export type KdigoCategory = 'G1' | 'G2' | 'G3a' | 'G3b' | 'G4' | 'G5';

/**
 * The rules layer's id and version, stored with every rule card's assessment. Bump the version
 * when a rule's logic or thresholds change, so stored cards say which rules made them.
 */
export const RULES_ID = 'cds-rules';
export const RULES_VERSION = '1.0.0';

export const LOINC = {
  creatinine: '2160-0',
  egfr: '98979-8',
  hba1c: '4548-4',
} as const;
const LOINC_SYSTEM = 'http://loinc.org';

/** A lab or vital value as the rules see it (taken from a FHIR Observation by cds-features). */
export interface LabValue {
  loinc: string;
  value: number;
  unit: string;
  /** ISO date or date-time the value refers to, or null when the Observation has none. */
  effective: string | null;
}

/** A row of lab_reference_ranges, with the catalogue's test name and unit. */
export interface ReferenceRange {
  loinc: string;
  name: string;
  unit: string;
  sex: ReferenceSex | null;
  ref_low: number | null;
  ref_high: number | null;
  critical_low: number | null;
  critical_high: number | null;
  source: string;
}

/** Unit spellings that mean the same (UCUM code, display text, micro sign vs Greek mu). */
export function normalizeUnit(unit: string): string {
  return unit
    .trim()
    .replace(/[µμ]/g, 'u')
    .replace('mm[Hg]', 'mmHg')
    .replace(/m\^?2|m²/g, 'm2')
    .replace('{1.73_m2}', '1.73m2')
    .toLowerCase();
}

// Creatinine: 1 mg/dL = 88.4 µmol/L (clinical-facts.md); the equation takes mg/dL.
export const CREATININE_UMOL_PER_MG_DL = 88.4;

/** Creatinine in mg/dL from a value in µmol/L or mg/dL; null for any other unit. */
export function creatinineMgDl(value: number, unit: string): number | null {
  const u = normalizeUnit(unit);
  if (u === 'umol/l') return value / CREATININE_UMOL_PER_MG_DL;
  if (u === 'mg/dl') return value;
  return null;
}

/**
 * eGFR in mL/min/1.73 m², CKD-EPI 2021 creatinine equation without a race term (Inker et al.,
 * NEJM 2021;385:1737): 142 × min(Scr/κ,1)^α × max(Scr/κ,1)^−1.200 × 0.9938^age × 1.012 (female);
 * κ = 0.7 / 0.9 and α = −0.241 / −0.302 for female / male; Scr in mg/dL. Adults only.
 */
export function egfrCkdEpi2021(input: { creatinineMgDl: number; ageYears: number; sex: ReferenceSex }): number {
  const { creatinineMgDl: scr, ageYears, sex } = input;
  if (!(scr > 0) || !Number.isFinite(scr)) throw new RangeError('creatinine must be a positive finite number');
  if (!(ageYears >= 18) || !Number.isFinite(ageYears)) throw new RangeError('CKD-EPI 2021 applies to adults (age >= 18)');
  const female = sex === 'female';
  const kappa = female ? 0.7 : 0.9;
  const alpha = female ? -0.241 : -0.302;
  const ratio = scr / kappa;
  return 142 * Math.min(ratio, 1) ** alpha * Math.max(ratio, 1) ** -1.2 * 0.9938 ** ageYears * (female ? 1.012 : 1);
}

/**
 * KDIGO 2012 GFR category: G1 ≥ 90, G2 60–89, G3a 45–59, G3b 30–44, G4 15–29, G5 < 15.
 * Callers pass the eGFR as reported (rounded to a whole number), so the printed value and its
 * category never disagree (89.6 prints as 90 and is G1).
 */
export function kdigoCategory(egfr: number): KdigoCategory {
  if (egfr >= 90) return 'G1';
  if (egfr >= 60) return 'G2';
  if (egfr >= 45) return 'G3a';
  if (egfr >= 30) return 'G3b';
  if (egfr >= 15) return 'G4';
  return 'G5';
}

const KDIGO_TEXT: Record<KdigoCategory, string> = {
  G1: 'normal or high',
  G2: 'mildly decreased',
  G3a: 'mildly to moderately decreased',
  G3b: 'moderately to severely decreased',
  G4: 'severely decreased',
  G5: 'kidney failure',
};

/**
 * The eGFR card from the latest creatinine. Returns an info card saying why when eGFR cannot be
 * computed (sex not female/male, age unknown or under 18, unit not convertible).
 */
export function egfrCard(input: { creatinine: LabValue; ageYears: number | null; sex: ReferenceSex | null }): CdsCard {
  const { creatinine, ageYears, sex } = input;
  const topic = { system: LOINC_SYSTEM, code: LOINC.egfr, display: 'eGFR (CKD-EPI 2021, creatinine)' };
  const scr = creatinineMgDl(creatinine.value, creatinine.unit);
  const reason =
    scr === null || !(scr > 0)
      ? `the creatinine unit (${creatinine.unit}) is not µmol/L or mg/dL, or the value is not positive`
      : sex === null
        ? 'the CKD-EPI 2021 equation needs sex recorded as female or male'
        : ageYears === null
          ? "the patient's birth date is not known"
          : ageYears < 18
            ? 'CKD-EPI 2021 is validated for adults only'
            : null;
  if (reason !== null) {
    return card({
      summary: 'eGFR not calculated from the latest creatinine',
      indicator: 'info',
      topic,
      detail: `eGFR was not calculated: ${reason}.`,
    });
  }
  const egfr = Math.round(egfrCkdEpi2021({ creatinineMgDl: scr!, ageYears: ageYears!, sex: sex! }));
  const category = kdigoCategory(egfr);
  const indicator = category === 'G5' ? 'critical' : category === 'G1' || category === 'G2' ? 'info' : 'warning';
  const when = creatinine.effective ? ` on ${creatinine.effective.slice(0, 10)}` : '';
  return card({
    summary: `eGFR ${egfr} mL/min/1.73m² (KDIGO ${category}, ${KDIGO_TEXT[category]})`,
    indicator,
    topic,
    detail: [
      `eGFR **${egfr} mL/min/1.73 m²** from creatinine ${fmt(creatinine.value, 2)} ${creatinine.unit}${when}, age ${ageYears}, sex ${sex}.`,
      `CKD-EPI 2021 creatinine equation (Inker et al., NEJM 2021), no race term. KDIGO 2012 GFR category **${category}** (${KDIGO_TEXT[category]}).`,
      'A GFR category alone is not a CKD diagnosis: CKD needs eGFR < 60 or markers of kidney damage for more than 3 months.',
    ].join('\n\n'),
  });
}

/** The range row for a test and sex: a sex-specific row first, else the row for every sex. */
export function pickRange(ranges: readonly ReferenceRange[], loinc: string, sex: ReferenceSex | null): ReferenceRange | undefined {
  return ranges.find((r) => r.loinc === loinc && sex !== null && r.sex === sex) ?? ranges.find((r) => r.loinc === loinc && r.sex === null);
}

/**
 * FHIR Observation interpretation from a range row: beyond a critical limit LL/HH, beyond the
 * reference interval L/H, else N. Limits are inclusive (a value equal to a limit is inside it).
 */
export function interpret(value: number, range: Pick<ReferenceRange, 'ref_low' | 'ref_high' | 'critical_low' | 'critical_high'>): Flag {
  if (range.critical_low !== null && value < range.critical_low) return 'LL';
  if (range.critical_high !== null && value > range.critical_high) return 'HH';
  if (range.ref_low !== null && value < range.ref_low) return 'L';
  if (range.ref_high !== null && value > range.ref_high) return 'H';
  return 'N';
}

const FLAG_TEXT: Record<Exclude<Flag, 'N'>, string> = {
  L: 'below the reference range',
  H: 'above the reference range',
  LL: 'critically low',
  HH: 'critically high',
};

function rangeText(r: ReferenceRange): string {
  const ref =
    r.ref_low !== null && r.ref_high !== null
      ? `${r.ref_low}–${r.ref_high}`
      : r.ref_low !== null
        ? `≥ ${r.ref_low}`
        : r.ref_high !== null
          ? `≤ ${r.ref_high}`
          : 'none';
  const crit = [r.critical_low !== null ? `low ${r.critical_low}` : null, r.critical_high !== null ? `high ${r.critical_high}` : null]
    .filter(Boolean)
    .join(', ');
  return `reference ${ref} ${r.unit}${crit ? `; critical limits ${crit} ${r.unit}` : ''} (${r.source})`;
}

/**
 * One card per latest value that is out of range: critical (LL/HH) or warning (L/H), critical first.
 * A value whose unit differs from the catalogue's, or with no range for the patient's sex, is skipped.
 */
export function flagCards(latest: readonly LabValue[], ranges: readonly ReferenceRange[], sex: ReferenceSex | null): CdsCard[] {
  const cards: Array<{ flag: Flag; card: CdsCard }> = [];
  for (const v of latest) {
    const range = pickRange(ranges, v.loinc, sex);
    if (!range || normalizeUnit(range.unit) !== normalizeUnit(v.unit)) continue;
    const flag = interpret(v.value, range);
    if (flag === 'N') continue;
    const when = v.effective ? ` (${v.effective.slice(0, 10)})` : '';
    cards.push({
      flag,
      card: card({
        summary: `${range.name} ${fmt(v.value, 2)} ${range.unit} is ${FLAG_TEXT[flag]} (${flag})`,
        indicator: flag === 'LL' || flag === 'HH' ? 'critical' : 'warning',
        topic: { system: LOINC_SYSTEM, code: v.loinc, display: range.name },
        detail: `${range.name} **${fmt(v.value, 2)} ${range.unit}**${when}: interpretation **${flag}**, ${rangeText(range)}. Ranges are the demo city's catalogue defaults.`,
      }),
    });
  }
  const rank = (f: Flag) => (f === 'LL' || f === 'HH' ? 0 : 1);
  return cards.sort((a, b) => rank(a.flag) - rank(b.flag)).map((c) => c.card);
}

/**
 * How recent a previous result makes a new order a likely duplicate, in days. HbA1c reflects about
 * three months of glycaemia (minimum retest interval 3 months: RCPath/ACB "National minimum
 * retesting intervals in pathology", 2021); other tests default to 7 days. A warning, never a block.
 */
export const DUPLICATE_WINDOW_DAYS: Readonly<Record<string, number>> = { [LOINC.hba1c]: 90 };
export const DEFAULT_DUPLICATE_WINDOW_DAYS = 7;

export interface DraftLabOrder {
  /** The draft ServiceRequest's id, so a suggestion can delete it. */
  id: string | null;
  loinc: string;
  display: string | null;
}

const DAY_MS = 86_400_000;

/**
 * order-sign review: warns on a draft lab order that repeats a test resulted within its window,
 * and, for a creatinine order, shows the last eGFR. `now` is the hook's evaluation time (ISO).
 */
export function reviewDraftLabOrders(input: {
  drafts: readonly DraftLabOrder[];
  labs: readonly LabValue[];
  now: string;
  ageYears: number | null;
  sex: ReferenceSex | null;
  testNames: Readonly<Record<string, string>>;
}): CdsCard[] {
  const nowMs = Date.parse(input.now);
  const cards: CdsCard[] = [];
  for (const draft of input.drafts) {
    const name = input.testNames[draft.loinc] ?? draft.display ?? `LOINC ${draft.loinc}`;
    const previous = latestOf(input.labs, draft.loinc);
    const window = DUPLICATE_WINDOW_DAYS[draft.loinc] ?? DEFAULT_DUPLICATE_WINDOW_DAYS;
    const ageDays = previous?.effective ? (nowMs - Date.parse(previous.effective)) / DAY_MS : null;
    if (previous && ageDays !== null && ageDays >= 0 && ageDays < window) {
      const days = Math.floor(ageDays);
      cards.push(
        card({
          summary: `Possible duplicate: ${name} was resulted ${days === 0 ? 'today' : `${days} day${days === 1 ? '' : 's'} ago`}`,
          indicator: 'warning',
          topic: { system: LOINC_SYSTEM, code: draft.loinc, display: name },
          detail:
            `The last ${name} result is from ${previous.effective!.slice(0, 10)}: ${fmt(previous.value, 2)} ${previous.unit}. ` +
            `A repeat within ${window} days is rarely needed; order it anyway if the clinical picture has changed.`,
          ...(draft.id
            ? {
                selectionBehavior: 'at-most-one' as const,
                suggestions: [
                  {
                    label: `Remove the ${name} order`,
                    actions: [
                      { type: 'delete' as const, description: `Remove the draft ${name} order`, resourceId: `ServiceRequest/${draft.id}` },
                    ],
                  },
                ],
              }
            : {}),
        }),
      );
    }
    if (draft.loinc === LOINC.creatinine) {
      const creatinine = latestOf(input.labs, LOINC.creatinine);
      if (creatinine) cards.push(egfrCard({ creatinine, ageYears: input.ageYears, sex: input.sex }));
    }
  }
  return cards;
}

/** The most recent value of a test: latest effective date first, undated values last. */
export function latestOf(labs: readonly LabValue[], loinc: string): LabValue | undefined {
  let best: LabValue | undefined;
  for (const v of labs) {
    if (v.loinc !== loinc) continue;
    if (!best || (v.effective !== null && (best.effective === null || Date.parse(v.effective) > Date.parse(best.effective)))) best = v;
  }
  return best;
}
