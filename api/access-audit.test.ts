import { auditOutcomeOf } from './access';
import { otherPatientsInPrefetch, referencedPatient } from './cds-hooks';

describe('audit outcome by answer', () => {
  test('a refusal is recorded as refused, a success (or a failure that may have changed something) as allowed, other 4xx not at all', () => {
    expect(auditOutcomeOf(200)).toBe('allowed');
    expect(auditOutcomeOf(201)).toBe('allowed');
    expect(auditOutcomeOf(403)).toBe('refused');
    expect(auditOutcomeOf(401)).toBe('refused');
    expect(auditOutcomeOf(503)).toBe('allowed');
    for (const status of [400, 404, 409, 422]) expect(auditOutcomeOf(status)).toBeNull();
  });
});

describe('CDS Hooks prefetch belongs to the context patient', () => {
  test('patient references are read relative, absolute and versioned; anything else names no patient', () => {
    expect(referencedPatient('Patient/p-1')).toBe('p-1');
    expect(referencedPatient('https://ehr.example/fhir/Patient/p-1')).toBe('p-1');
    expect(referencedPatient('Patient/p-1/_history/3')).toBe('p-1');
    expect(referencedPatient('Group/g-1')).toBeNull();
    expect(referencedPatient('Patient/')).toBeNull();
  });

  test('a Patient of another id, or a resource whose subject names another patient (or no patient), is named', () => {
    const obs = (reference?: unknown) =>
      reference === undefined ? { resourceType: 'Observation' } : { resourceType: 'Observation', subject: { reference } };
    expect(otherPatientsInPrefetch('p-1', { id: 'p-1' }, [obs(), obs('Patient/p-1')])).toEqual([]);
    expect(otherPatientsInPrefetch('p-1', {}, [])).toEqual([]);
    expect(otherPatientsInPrefetch('p-1', { id: 'p-2' }, [])).toEqual(['prefetch.patient']);
    expect(otherPatientsInPrefetch('p-1', { id: 'p-1' }, [obs('Patient/p-2'), obs('Group/g'), obs(42), obs('Patient/p-1')])).toEqual([
      'resource 0',
      'resource 1',
      'resource 2',
    ]);
  });
});
