import { decodeCursor, encodeCursor, recordBundle, recordItemResources, type RecordItem } from './record';

const P = '00000000-0000-4000-8000-000000000001';

describe('record cursor', () => {
  test('round-trips and refuses anything else', () => {
    const c = { at: '2026-11-26T10:00:00.123456Z', kind: 'referral', id: 'a1b2' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor('not-a-cursor')).toBeNull();
    expect(decodeCursor(Buffer.from(JSON.stringify(['x', 'referral', 'a'])).toString('base64url'))).toBeNull();
    expect(decodeCursor(Buffer.from(JSON.stringify(['2026-11-26T10:00:00Z', 'patient', 'a'])).toString('base64url'))).toBeNull();
    expect(
      decodeCursor(Buffer.from(JSON.stringify(['2026-11-26T10:00:00Z', 'referral', "'; DROP TABLE x"])).toString('base64url')),
    ).toBeNull();
  });
});

describe('record as FHIR', () => {
  const lab: RecordItem = {
    kind: 'lab-report',
    id: 'o1',
    at: '2026-11-26T10:00:00.000Z',
    status: 'final',
    clinicId: 'c',
    orderingPractitionerId: 'p',
    tests: ['2823-3'],
    amended: false,
    results: [
      {
        loinc: '2823-3',
        name: 'Potassium',
        value: 6.8,
        unit: 'mmol/L',
        flag: 'HH',
        refLow: 3.5,
        refHigh: 5.1,
        status: 'final',
        version: 1,
        resultedAt: '2026-11-26T10:00:00.000Z',
      },
    ],
  };

  test('a lab report is a DiagnosticReport with Observations carrying interpretation and reference range', () => {
    const [report, obs] = recordItemResources(P, lab) as any[];
    expect(report).toMatchObject({ resourceType: 'DiagnosticReport', status: 'final', result: [{ reference: `Observation/${obs.id}` }] });
    expect(obs).toMatchObject({
      resourceType: 'Observation',
      status: 'final',
      interpretation: [{ coding: [{ code: 'HH' }] }],
      referenceRange: [{ low: { value: 3.5 }, high: { value: 5.1 } }],
      subject: { reference: `Patient/${P}` },
    });
  });

  test('statuses come from the shared maps: a held appointment is pending, a breached referral says so', () => {
    const [appt] = recordItemResources(P, {
      kind: 'appointment',
      id: 'a',
      at: 'x',
      status: 'held',
      clinicId: 'c',
      practitionerId: 'p',
      startsAt: 's',
      endsAt: 'e',
    }) as any[];
    expect(appt.status).toBe('pending');
    const [ref] = recordItemResources(P, {
      kind: 'referral',
      id: 'r',
      at: 't',
      status: 'offered',
      breached: true,
      deadlineAt: 'd',
      clinicId: 'c',
      referringPractitionerId: 'p',
      specialty: 'cardiology',
      urgency: 'cancer-suspected',
      icd10: 'C50.9',
      targetPractitionerId: null,
      appointmentId: null,
    }) as any[];
    expect(ref).toMatchObject({
      resourceType: 'ServiceRequest',
      status: 'active',
      priority: 'asap',
      extension: [{ valueCode: 'offered-breached' }],
    });
  });

  test('a page is a searchset Bundle with a next link when there is more', () => {
    const b = recordBundle(P, [lab], { self: '/s', next: '/n' });
    expect(b).toMatchObject({
      resourceType: 'Bundle',
      type: 'searchset',
      link: [
        { relation: 'self', url: '/s' },
        { relation: 'next', url: '/n' },
      ],
    });
    expect(b.entry!.map((e) => e.resource!.resourceType)).toEqual(['DiagnosticReport', 'Observation']);
  });
});

test('a visit diagnosis is a FHIR Condition: encounter diagnosis, ICD-10 code with its Russian title, the practitioner and the visit', () => {
  const item: RecordItem = {
    kind: 'diagnosis',
    id: 'a1b2',
    at: '2026-12-07T10:00:00.000Z',
    code: 'J06.9',
    title: 'Острая инфекция верхних дыхательных путей неуточненная',
    appointmentId: 'a1b2',
    clinicId: 'c1',
    practitionerId: 'p1',
  };
  expect(recordItemResources('pat-1', item)).toEqual([
    {
      resourceType: 'Condition',
      id: 'visit-a1b2',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      category: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/condition-category',
              code: 'encounter-diagnosis',
              display: 'Encounter Diagnosis',
            },
          ],
        },
      ],
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'J06.9', display: item.title }], text: item.title },
      subject: { reference: 'Patient/pat-1' },
      recordedDate: item.at,
      recorder: { reference: 'Practitioner/p1' },
      evidence: [{ detail: [{ reference: 'Appointment/a1b2' }] }],
    },
  ]);
});
