import { ageOn, labValues, latestValues, mapModelFeatures, patientSex, type FhirObservation, type FhirPatient } from './features';
import modelMetaJson from '../../models/diabetes-progression.json';
import { parseModelMeta } from './model-meta';

const meta = parseModelMeta(modelMetaJson);

function obs(loinc: string, value: number, unit: string, effectiveDateTime = '2026-11-20T09:00:00Z', status = 'final'): FhirObservation {
  return {
    resourceType: 'Observation',
    status,
    code: { coding: [{ system: 'http://loinc.org', code: loinc }] },
    valueQuantity: { value, unit },
    effectiveDateTime,
  };
}

const patient: FhirPatient = { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1973-06-15' };
/** Golden case 0 of the model (age 53, bmi 20.5, bp 78, tc 147, ldl 84.2, hdl 52, ltg 3.989, glu 75) in SI units. */
const siObservations = [
  obs('39156-5', 20.5, 'kg/m2'),
  obs('8478-0', 78, 'mm[Hg]'),
  obs('2093-3', 147 / 38.67, 'mmol/L'),
  obs('13457-7', 84.2 / 38.67, 'mmol/L'),
  obs('2085-9', 52 / 38.67, 'mmol/L'),
  obs('2571-8', Math.exp(3.989) / 88.57, 'mmol/L'),
  obs('2345-7', 75 / 18, 'mmol/L'),
];

describe('mapping FHIR prefetch onto the diabetes-progression features', () => {
  test('converts SI labs to mg/dL, takes ln of triglycerides and tc/hdl, and scores sex at the cohort mean', () => {
    const m = mapModelFeatures(meta, { patient, labs: labValues(siObservations), evaluationDate: '2026-11-25' });
    expect(m.missing).toEqual([]);
    const expected: Record<string, number> = {
      age: 53,
      sex: 1.4683257918552035,
      bmi: 20.5,
      bp: 78,
      tc: 147,
      ldl: 84.2,
      hdl: 52,
      tch: 147 / 52,
      ltg: 3.989,
      glu: 75,
    };
    expect(Object.keys(m.features).sort()).toEqual(Object.keys(expected).sort());
    for (const [k, v] of Object.entries(expected)) expect(m.features[k]).toBeCloseTo(v, 9);
    expect(m.notes.join(' ')).toContain('sex coding is undocumented');
    expect(m.sources.tch).toHaveLength(2);
  });

  test('takes mg/dL values as they are', () => {
    const mgdl = [
      obs('39156-5', 30, 'kg/m2'),
      obs('8478-0', 90, 'mmHg'),
      obs('2093-3', 200, 'mg/dL'),
      obs('13457-7', 120, 'mg/dL'),
      obs('2085-9', 40, 'mg/dL'),
      obs('2571-8', 150, 'mg/dL'),
      obs('2345-7', 100, 'mg/dL'),
    ];
    const m = mapModelFeatures(meta, { patient, labs: labValues(mgdl), evaluationDate: '2026-11-25' });
    expect(m.features).toMatchObject({ tc: 200, hdl: 40, tch: 5, glu: 100 });
    expect(m.features.ltg).toBeCloseTo(Math.log(150), 12);
  });

  test('estimates mean arterial pressure from systolic and diastolic when 8478-0 is absent, and says so', () => {
    const labs = labValues([
      ...siObservations.filter((o) => o.code!.coding![0]!.code !== '8478-0'),
      obs('8480-6', 130, 'mm[Hg]'),
      obs('8462-4', 80, 'mm[Hg]'),
    ]);
    const m = mapModelFeatures(meta, { patient, labs, evaluationDate: '2026-11-25' });
    expect(m.features.bp).toBeCloseTo((130 + 2 * 80) / 3, 12);
    expect(m.notes.join(' ')).toContain('(systolic + 2 × diastolic) / 3');
  });

  test('uses the latest result of each test and ignores withdrawn ones', () => {
    const labs = labValues([
      ...siObservations,
      obs('2345-7', 9, 'mmol/L', '2026-11-24T09:00:00Z'),
      obs('2345-7', 20, 'mmol/L', '2026-11-25T09:00:00Z', 'entered-in-error'),
      obs('2345-7', 3, 'mmol/L', '2025-01-01T09:00:00Z'),
    ]);
    expect(mapModelFeatures(meta, { patient, labs, evaluationDate: '2026-11-25' }).features.glu).toBeCloseTo(162, 9);
    expect(latestValues(labs).filter((l) => l.loinc === '2345-7')).toEqual([
      { loinc: '2345-7', value: 9, unit: 'mmol/L', effective: '2026-11-24T09:00:00Z' },
    ]);
  });

  test('lists what is missing or unconvertible by feature, without values', () => {
    const labs = labValues(
      siObservations
        .filter((o) => !['2345-7', '2085-9'].includes(o.code!.coding![0]!.code!))
        .map((o) => (o.code!.coding![0]!.code === '39156-5' ? obs('39156-5', 20.5, 'lb/in2') : o)),
    );
    const m = mapModelFeatures(meta, { patient: { resourceType: 'Patient', birthDate: '1973' }, labs, evaluationDate: '2026-11-25' });
    expect(m.missing.map((x) => x.feature)).toEqual(['age', 'bmi', 'hdl', 'tch', 'glu']);
    expect(m.missing.find((x) => x.feature === 'glu')!.reason).toBe('no result for LOINC 2345-7');
    expect(m.missing.find((x) => x.feature === 'bmi')!.reason).toContain('lb/in2');
  });

  test('a zero triglyceride maps to a non-finite ltg, which the worker then refuses by name', () => {
    const labs = labValues(siObservations.map((o) => (o.code!.coding![0]!.code === '2571-8' ? obs('2571-8', 0, 'mmol/L') : o)));
    expect(mapModelFeatures(meta, { patient, labs, evaluationDate: '2026-11-25' }).features.ltg).toBe(-Infinity);
  });
});

describe('patient facts', () => {
  test('age counts whole years at the evaluation date', () => {
    expect(ageOn('1973-11-25', '2026-11-25')).toBe(53);
    expect(ageOn('1973-11-26', '2026-11-25')).toBe(52);
    expect(ageOn('1973-11', '2026-11-25')).toBeNull();
    expect(ageOn(undefined, '2026-11-25')).toBeNull();
  });

  test('sex for eGFR comes from FHIR gender female/male only', () => {
    expect(patientSex({ resourceType: 'Patient', gender: 'male' })).toBe('male');
    expect(patientSex({ resourceType: 'Patient', gender: 'other' })).toBeNull();
    expect(patientSex({ resourceType: 'Patient' })).toBeNull();
  });
});
