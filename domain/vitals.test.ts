import { bmiOf, vitalObservations } from './vitals';
import { fhirDiagnosticReportStatus, fhirServiceRequestStatus, fhirSpecimenStatus } from './lab-order';

describe('vital signs the doctor records', () => {
  test('weight and height give BMI; blood pressure comes as a pair, diastolic below systolic', () => {
    expect(bmiOf(92, 178)).toBe(29);
    const ok = vitalObservations({ weight: 92, height: 178, systolic: 146, diastolic: 92 });
    expect(ok.ok && ok.values.map((v) => [v.loinc, v.value, v.unit])).toEqual([
      ['29463-7', 92, 'kg'],
      ['8302-2', 178, 'cm'],
      ['39156-5', 29, 'kg/m2'],
      ['8480-6', 146, 'mm[Hg]'],
      ['8462-4', 92, 'mm[Hg]'],
    ]);
    expect(vitalObservations({ systolic: 140 })).toEqual({ ok: false, problems: ['blood pressure needs both systolic and diastolic'] });
    expect(vitalObservations({ systolic: 80, diastolic: 90 })).toMatchObject({ ok: false, problems: ['diastolic must be below systolic'] });
    expect(vitalObservations({ weight: 900 })).toMatchObject({ ok: false, problems: ['weight must be 0.5–400 kg'] });
    expect(vitalObservations({})).toMatchObject({ ok: false });
  });
});

describe('lab order statuses in FHIR', () => {
  test('ServiceRequest, Specimen and DiagnosticReport follow the order', () => {
    expect(['ordered', 'received', 'final', 'closed', 'cancelled'].map((s) => fhirServiceRequestStatus(s as never))).toEqual([
      'active',
      'active',
      'completed',
      'completed',
      'revoked',
    ]);
    expect(fhirSpecimenStatus('ordered', true)).toBe('unsatisfactory');
    expect(fhirSpecimenStatus('collected', false)).toBe('available');
    expect(['ordered', 'resulted', 'final'].map((s) => fhirDiagnosticReportStatus(s as never, false))).toEqual([
      'registered',
      'partial',
      'final',
    ]);
    expect(fhirDiagnosticReportStatus('acknowledged', true)).toBe('amended');
  });
});
