/**
 * From FHIR R4 prefetch (a Patient, Observations with LOINC codes) to values the rules use and to
 * a model's raw feature vector. Pure: the hook's evaluation date is passed in.
 *
 * For the diabetes-progression model (models/diabetes-progression.card.md): SI lab values are
 * converted to mg/dL with each feature's `fromSI` factor; `ltg` is ln(triglycerides in mg/dL);
 * `tch` is tc / hdl; `bp` is mean arterial pressure (LOINC 8478-0), else (SBP + 2·DBP)/3 from
 * 8480-6 / 8462-4 (our approximation); `sex` is scored at the cohort mean because the dataset's
 * sex coding is undocumented, which makes its contribution ~0 instead of a guess.
 */
import { normalizeUnit, latestOf, type LabValue } from './rules';
import type { ReferenceSex } from '../patient';
import type { ModelMeta } from './model-meta';

export interface FhirCoding {
  system?: string;
  code?: string;
  display?: string;
}

export interface FhirPatient {
  resourceType: 'Patient';
  id?: string;
  gender?: string;
  birthDate?: string;
}

export interface FhirObservation {
  resourceType: 'Observation';
  id?: string;
  status?: string;
  code?: { coding?: FhirCoding[]; text?: string };
  valueQuantity?: { value?: number; unit?: string; code?: string; system?: string };
  effectiveDateTime?: string;
  issued?: string;
}

export const LOINC_SYSTEM = 'http://loinc.org';
export const VITALS = { bmi: '39156-5', map: '8478-0', systolic: '8480-6', diastolic: '8462-4' } as const;
const DROPPED_STATUSES = new Set(['entered-in-error', 'cancelled', 'registered']);

/** The LOINC code of a coded element, if it has one. */
export function loincOf(code: { coding?: FhirCoding[] } | undefined): string | null {
  return code?.coding?.find((c) => c.system === LOINC_SYSTEM && c.code)?.code ?? null;
}

/** Quantity-valued Observations with a LOINC code as LabValues (withdrawn results are dropped). */
export function labValues(observations: readonly FhirObservation[]): LabValue[] {
  const out: LabValue[] = [];
  for (const o of observations) {
    if (o.status && DROPPED_STATUSES.has(o.status)) continue;
    const loinc = loincOf(o.code);
    const value = o.valueQuantity?.value;
    if (!loinc || typeof value !== 'number') continue;
    out.push({
      loinc,
      value,
      unit: o.valueQuantity?.code ?? o.valueQuantity?.unit ?? '',
      effective: o.effectiveDateTime ?? o.issued ?? null,
    });
  }
  return out;
}

/** The latest value of each test. */
export function latestValues(labs: readonly LabValue[]): LabValue[] {
  return [...new Set(labs.map((l) => l.loinc))].map((loinc) => latestOf(labs, loinc)!);
}

/** Whole years from a full birth date ('YYYY-MM-DD') to a date; null for a partial or missing date. */
export function ageOn(birthDate: string | undefined, onDate: string): number | null {
  const b = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate ?? '');
  const d = /^(\d{4})-(\d{2})-(\d{2})/.exec(onDate);
  if (!b || !d) return null;
  const [by, bm, bd] = [Number(b[1]), Number(b[2]), Number(b[3])];
  const [y, m, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
  const age = y - by - (m < bm || (m === bm && day < bd) ? 1 : 0);
  return age >= 0 ? age : null;
}

/** FHIR administrative gender as the eGFR equation needs it; other and unknown give null. */
export function patientSex(patient: FhirPatient): ReferenceSex | null {
  return patient.gender === 'female' || patient.gender === 'male' ? patient.gender : null;
}

export interface FeatureMapping {
  /** Raw features in the model's units, for every feature that could be mapped. */
  features: Record<string, number>;
  /** Features that could not be mapped, with why (no values: these may reach logs). */
  missing: Array<{ feature: string; reason: string }>;
  /** What the clinician should know about how inputs were derived. */
  notes: string[];
  /** The source values behind each feature, stored with the assessment for traceability. */
  sources: Record<string, LabValue[]>;
}

/** Maps a patient and their observations onto a model's features (see the module comment). */
export function mapModelFeatures(
  meta: Pick<ModelMeta, 'features'>,
  input: { patient: FhirPatient; labs: readonly LabValue[]; evaluationDate: string },
): FeatureMapping {
  const result: FeatureMapping = { features: {}, missing: [], notes: [], sources: {} };
  const latest = (loinc: string) => latestOf(input.labs, loinc);
  const inModelUnit = (feature: ModelMeta['features'][number], v: LabValue): number | null => {
    const unit = normalizeUnit(v.unit);
    if (feature.fromSI !== undefined && unit === 'mmol/l') return v.value * feature.fromSI;
    if (feature.fromSI !== undefined && unit === 'mg/dl') return v.value;
    if (feature.fromSI === undefined && unit === normalizeUnit(feature.unit)) return v.value;
    return null;
  };
  const byName = new Map(meta.features.map((f) => [f.name, f]));
  const labMgDl = (name: string): { value: number; source: LabValue } | { reason: string } => {
    const f = byName.get(name);
    if (!f?.loinc) return { reason: `no LOINC code for ${name}` };
    const v = latest(f.loinc);
    if (!v) return { reason: `no result for LOINC ${f.loinc}` };
    const converted = inModelUnit({ ...f, transform: undefined }, v);
    return converted === null
      ? { reason: `unit ${v.unit || '(none)'} of LOINC ${f.loinc} is not convertible to ${f.unit}` }
      : { value: converted, source: v };
  };

  for (const f of meta.features) {
    const set = (value: number, sources: LabValue[]) => {
      result.features[f.name] = value;
      if (sources.length) result.sources[f.name] = sources;
    };
    const miss = (reason: string) => result.missing.push({ feature: f.name, reason });

    if (f.name === 'age') {
      const age = ageOn(input.patient.birthDate, input.evaluationDate);
      if (age === null) miss('no full birth date on the Patient');
      else set(age, []);
    } else if (f.name === 'sex') {
      set(f.mean, []);
      result.notes.push(
        `Sex is scored at the training cohort's mean (${f.mean.toFixed(3)}): the dataset's sex coding is undocumented, so the model's sex term contributes ~0 rather than a guessed mapping.`,
      );
    } else if (f.name === 'bp' && !latest(VITALS.map)) {
      const sys = latest(VITALS.systolic);
      const dia = latest(VITALS.diastolic);
      const mmHg = (v: LabValue | undefined) => v && normalizeUnit(v.unit) === 'mmhg';
      if (mmHg(sys) && mmHg(dia)) {
        set((sys!.value + 2 * dia!.value) / 3, [sys!, dia!]);
        result.notes.push(
          'Mean arterial pressure was not recorded: it is estimated as (systolic + 2 × diastolic) / 3 from the latest readings.',
        );
      } else {
        miss(`no mean blood pressure (LOINC ${VITALS.map}) nor systolic and diastolic in mmHg`);
      }
    } else if (f.name === 'tch') {
      const tc = labMgDl('tc');
      const hdl = labMgDl('hdl');
      if ('value' in tc && 'value' in hdl) set(tc.value / hdl.value, [tc.source, hdl.source]);
      else miss(`needs total and HDL cholesterol (${'reason' in tc ? tc.reason : (hdl as { reason: string }).reason})`);
    } else if (f.loinc) {
      const v = latest(f.loinc);
      if (!v) {
        miss(`no result for LOINC ${f.loinc}`);
        continue;
      }
      const converted = inModelUnit(f, v);
      if (converted === null) {
        miss(`unit ${v.unit || '(none)'} of LOINC ${f.loinc} is not convertible to ${f.unit}`);
        continue;
      }
      // ln of a non-positive value is not finite: left as is, so the worker refuses it by name.
      set(f.transform === 'ln' ? Math.log(converted) : converted, [v]);
    } else {
      miss('no mapping from FHIR for this feature');
    }
  }
  return result;
}
