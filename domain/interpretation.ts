/**
 * Lab result interpretation, pure: a value in the catalogue's unit (or one converted by the
 * catalogue's factor) checked against what is physiologically possible, then flagged N / L / H /
 * LL / HH (FHIR ObservationInterpretation) against the reference range for the patient's sex and
 * age. Ranges are data (lab_reference_ranges): each laboratory sets its own.
 */
import type { ReferenceSex } from './patient';

export type Flag = 'N' | 'L' | 'H' | 'LL' | 'HH';

/** One reference range row: sex null = every sex; age bounds in whole years, inclusive, null = open. */
export interface RangeRow {
  sex: ReferenceSex | null;
  ageMinYears: number | null;
  ageMaxYears: number | null;
  refLow: number | null;
  refHigh: number | null;
  criticalLow: number | null;
  criticalHigh: number | null;
}

/** A test as the catalogue knows it: its unit, other units it accepts, possible values, ranges. */
export interface CatalogueTest {
  loinc: string;
  name: string;
  unit: string;
  /** Other units: catalogue value = reported value × factor (e.g. glucose mg/dL × 0.0555 → mmol/L). */
  altUnits: Array<{ unit: string; factor: number }>;
  /** What a living patient can have, in the catalogue unit; outside it the value is a lab error. */
  physioLow: number | null;
  physioHigh: number | null;
  ranges: RangeRow[];
}

/** Unit spellings that mean the same (UCUM code or display, micro sign or Greek mu, case). */
export function sameUnit(a: string, b: string): boolean {
  const norm = (u: string) => u.trim().replace(/[µμ]/g, 'u').replace('mm[Hg]', 'mmHg').toLowerCase();
  return norm(a) === norm(b);
}

export type ResultRefusal =
  | { code: 'unknown_test'; message: string }
  | { code: 'wrong_unit'; message: string }
  | { code: 'not_finite'; message: string }
  | { code: 'impossible_value'; message: string };

/**
 * The value in the catalogue unit, or why it is refused. No values in messages: they are stored
 * in workflow history and logs.
 */
export function toCatalogueValue(
  test: CatalogueTest | undefined,
  loinc: string,
  value: unknown,
  unit: string,
): { value: number } | ResultRefusal {
  if (!test) return { code: 'unknown_test', message: `LOINC ${String(loinc).slice(0, 20)} is not a test on this order` };
  if (typeof value !== 'number' || !Number.isFinite(value))
    return { code: 'not_finite', message: `the value for ${test.loinc} is not a finite number` };
  let converted: number;
  if (sameUnit(unit, test.unit)) converted = value;
  else {
    const alt = test.altUnits.find((a) => sameUnit(a.unit, unit));
    if (!alt)
      return {
        code: 'wrong_unit',
        message: `unit ${String(unit).slice(0, 20)} is not ${test.unit} nor convertible to it for ${test.loinc}`,
      };
    converted = roundTo(value * alt.factor, 6);
  }
  if ((test.physioLow !== null && converted < test.physioLow) || (test.physioHigh !== null && converted > test.physioHigh)) {
    return {
      code: 'impossible_value',
      message: `the value for ${test.loinc} is outside the physiologically possible range ${test.physioLow ?? '-∞'}–${test.physioHigh ?? '∞'} ${test.unit}`,
    };
  }
  return { value: converted };
}

export function roundTo(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * The range for a patient: rows whose age bounds hold the age (unknown age: rows without bounds),
 * for the patient's sex or every sex; the narrowest age band wins, then a sex-specific row.
 */
export function pickRange(rows: readonly RangeRow[], sex: ReferenceSex | null, ageYears: number | null): RangeRow | undefined {
  const fits = rows.filter((r) => {
    if (r.sex !== null && r.sex !== sex) return false;
    if (ageYears === null) return r.ageMinYears === null && r.ageMaxYears === null;
    return (r.ageMinYears === null || ageYears >= r.ageMinYears) && (r.ageMaxYears === null || ageYears <= r.ageMaxYears);
  });
  const span = (r: RangeRow) => (r.ageMaxYears ?? 200) - (r.ageMinYears ?? 0);
  return [...fits].sort((a, b) => span(a) - span(b) || (a.sex === null ? 1 : 0) - (b.sex === null ? 1 : 0))[0];
}

/**
 * Beyond a critical limit LL/HH, beyond the reference interval L/H, else N. Limits are inclusive
 * (a value equal to a limit is inside it). No range: N (nothing to compare against).
 */
export function interpretValue(value: number, range: RangeRow | undefined): Flag {
  if (!range) return 'N';
  if (range.criticalLow !== null && value < range.criticalLow) return 'LL';
  if (range.criticalHigh !== null && value > range.criticalHigh) return 'HH';
  if (range.refLow !== null && value < range.refLow) return 'L';
  if (range.refHigh !== null && value > range.refHigh) return 'H';
  return 'N';
}

export const isCritical = (flag: Flag) => flag === 'LL' || flag === 'HH';

/** Whole years from a 'YYYY-MM-DD' birth date to an instant's UTC date; null when unknown. */
export function ageInYears(birthDate: string | null, atIso: string): number | null {
  const b = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate ?? '');
  const d = /^(\d{4})-(\d{2})-(\d{2})/.exec(atIso);
  if (!b || !d) return null;
  const age =
    Number(d[1]) - Number(b[1]) - (Number(d[2]) < Number(b[2]) || (Number(d[2]) === Number(b[2]) && Number(d[3]) < Number(b[3])) ? 1 : 0);
  return age >= 0 ? age : null;
}

/**
 * A read-back matches when the unit is the result's (catalogue or as reported) and the value equals
 * it in that unit to the reported precision (GP47: the receiver repeats value and unit).
 */
export function readBackMatches(
  result: { value: number; unit: string; reportedValue: number; reportedUnit: string },
  readBack: { value: number; unit: string },
): boolean {
  if (typeof readBack.value !== 'number' || !Number.isFinite(readBack.value)) return false;
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  if (sameUnit(readBack.unit, result.unit) && close(readBack.value, result.value)) return true;
  return sameUnit(readBack.unit, result.reportedUnit) && close(readBack.value, result.reportedValue);
}
