import { decodeCursor, encodeCursor, recordBundle, recordItemResources, type RecordItem } from './record';

const P = '00000000-0000-4000-8000-000000000001';

describe('record cursor', () => {
  test('round-trips and refuses anything else', () => {
    const c = { at: '2026-11-26T10:00:00.123456Z', kind: 'referral', id: 'a1b2' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor('not-a-cursor')).toBeNull();
    expect(decodeCursor(Buffer.from(JSON.stringify(['x', 'referral', 'a'])).toString('base64url'))).toBeNull();
    expect(decodeCursor(Buffer.from(JSON.stringify(['2026-11-26T10:00:00Z', 'patient', 'a'])).toString('base64url'))).toBeNull();
    expect(decodeCursor(Buffer.from(JSON.stringify(['2026-11-26T10:00:00Z', 'referral', "'; DROP TABLE x"])).toString('base64url'))).toBeNull();
  });
});

describe('record as FHIR', () => {
  const lab: RecordItem = {
    kind: 'lab-report', id: 'o1', at: '2026-11-26T10:00:00.000Z', status: 'final', clinicId: 'c', orderingPractitionerId: 'p', tests: ['2823-3'], amended: false,
    results: [{ loinc: '2823-3', name: 'Potassium', value: 6.8, unit: 'mmol/L', flag: 'HH', refLow: 3.5, refHigh: 5.1, status: 'final', version: 1, resultedAt: '2026-11-26T10:00:00.000Z' }],
  };

  test('a lab report is a DiagnosticReport with Observations carrying interpretation and reference range', () => {
    const [report, obs] = recordItemResources(P, lab) as any[];
    expect(report).toMatchObject({ resourceType: 'DiagnosticReport', status: 'final', result: [{ reference: `Observation/${obs.id}` }] });
    expect(obs).toMatchObject({
      resourceType: 'Observation', status: 'final', interpretation: [{ coding: [{ code: 'HH' }] }],
      referenceRange: [{ low: { value: 3.5 }, high: { value: 5.1 } }], subject: { reference: `Patient/${P}` },
    });
  });

  test('statuses come from the shared maps: a held appointment is pending, a breached referral says so', () => {
    const [appt] = recordItemResources(P, { kind: 'appointment', id: 'a', at: 'x', status: 'held', clinicId: 'c', practitionerId: 'p', startsAt: 's', endsAt: 'e' }) as any[];
    expect(appt.status).toBe('pending');
    const [ref] = recordItemResources(P, {
      kind: 'referral', id: 'r', at: 't', status: 'offered', breached: true, deadlineAt: 'd', clinicId: 'c', referringPractitionerId: 'p', specialty: 'cardiology',
      urgency: 'cancer-suspected', icd10: 'C50.9', targetPractitionerId: null, appointmentId: null,
    }) as any[];
    expect(ref).toMatchObject({ resourceType: 'ServiceRequest', status: 'active', priority: 'asap', extension: [{ valueCode: 'offered-breached' }] });
  });

  test('a page is a searchset Bundle with a next link when there is more', () => {
    const b = recordBundle(P, [lab], { self: '/s', next: '/n' });
    expect(b).toMatchObject({ resourceType: 'Bundle', type: 'searchset', link: [{ relation: 'self', url: '/s' }, { relation: 'next', url: '/n' }] });
    expect(b.entry!.map((e) => e.resource!.resourceType)).toEqual(['DiagnosticReport', 'Observation']);
  });
});
