/**
 * Vital signs the doctor records (FHIR vital-signs profile, LOINC-coded), with the units we store
 * and the values we accept. BMI is derived from weight and height when both are given.
 */
export const VITAL_SIGNS = {
  weight: { loinc: '29463-7', unit: 'kg', min: 0.5, max: 400, display: 'Body weight' },
  height: { loinc: '8302-2', unit: 'cm', min: 30, max: 250, display: 'Body height' },
  bmi: { loinc: '39156-5', unit: 'kg/m2', min: 8, max: 100, display: 'Body mass index' },
  systolic: { loinc: '8480-6', unit: 'mm[Hg]', min: 40, max: 300, display: 'Systolic blood pressure' },
  diastolic: { loinc: '8462-4', unit: 'mm[Hg]', min: 20, max: 200, display: 'Diastolic blood pressure' },
} as const;

export type VitalName = keyof typeof VITAL_SIGNS;

/** BMI (kg/m²) from weight in kg and height in cm, to one decimal. */
export function bmiOf(weightKg: number, heightCm: number): number {
  return Math.round((weightKg / (heightCm / 100) ** 2) * 10) / 10;
}

/** The readings as LOINC-coded values, BMI added when weight and height are given; or what is wrong. */
export function vitalObservations(
  input: Partial<Record<VitalName, number>>,
): { ok: true; values: Array<{ name: VitalName; loinc: string; value: number; unit: string }> } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const values: Array<{ name: VitalName; loinc: string; value: number; unit: string }> = [];
  const given = { ...input };
  if (given.bmi === undefined && given.weight !== undefined && given.height !== undefined) given.bmi = bmiOf(given.weight, given.height);
  for (const [name, spec] of Object.entries(VITAL_SIGNS) as Array<[VitalName, (typeof VITAL_SIGNS)[VitalName]]>) {
    const v = given[name];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < spec.min || v > spec.max)
      problems.push(`${name} must be ${spec.min}–${spec.max} ${spec.unit}`);
    else values.push({ name, loinc: spec.loinc, value: v, unit: spec.unit });
  }
  if ((given.systolic === undefined) !== (given.diastolic === undefined)) problems.push('blood pressure needs both systolic and diastolic');
  if (given.systolic !== undefined && given.diastolic !== undefined && given.diastolic >= given.systolic)
    problems.push('diastolic must be below systolic');
  if (!values.length && !problems.length) problems.push('no vital sign given');
  return problems.length ? { ok: false, problems } : { ok: true, values };
}
