import { ICD10, defaultReferralPolicy, escalationAt, fhirReferralStatus } from './referral';

describe('referral vocabulary', () => {
  test('waiting times follow the programme of state guarantees', () => {
    expect(defaultReferralPolicy('specialist', 'routine').wait).toEqual({ workingDays: 14 });
    expect(defaultReferralPolicy('specialist', 'cancer-suspected').wait).toEqual({ workingDays: 3 });
    expect(defaultReferralPolicy('diagnostic', 'routine').wait).toEqual({ workingDays: 14 });
    expect(defaultReferralPolicy('diagnostic', 'cancer-suspected').wait).toEqual({ workingDays: 7 });
    expect(defaultReferralPolicy('gp', 'routine').wait).toEqual({ hours: 24 });
    expect(defaultReferralPolicy('specialist', 'urgent').wait).toEqual({ hours: 2 });
    expect(defaultReferralPolicy('specialist', 'routine').escalationShare).toBe(0.5);
  });

  test('escalation falls at the policy share of the wait', () => {
    expect(escalationAt('2026-11-02T00:00:00.000Z', '2026-11-12T00:00:00.000Z', 0.5)).toBe('2026-11-07T00:00:00.000Z');
  });

  test('ICD-10 codes are checked for shape', () => {
    for (const ok of ['I10', 'I25.1', 'C50.912', 'E11.65', 'K35.2']) expect(ICD10.test(ok)).toBe(true);
    for (const bad of ['i10', '110', 'I1', 'I10.', 'U07.1', 'I10.12345', 'hypertension']) expect(ICD10.test(bad)).toBe(false);
  });

  test('each step maps to FHIR ServiceRequest and Task statuses', () => {
    expect(fhirReferralStatus('created', false)).toEqual({ serviceRequest: 'active', task: 'requested', businessStatus: 'created' });
    expect(fhirReferralStatus('offered', true)).toEqual({ serviceRequest: 'active', task: 'received', businessStatus: 'offered-breached' });
    expect(fhirReferralStatus('booked', false).task).toBe('accepted');
    expect(fhirReferralStatus('attended', false).task).toBe('in-progress');
    expect(fhirReferralStatus('closed', true)).toEqual({ serviceRequest: 'completed', task: 'completed', businessStatus: 'closed' });
    expect(fhirReferralStatus('cancelled', false)).toEqual({ serviceRequest: 'revoked', task: 'cancelled', businessStatus: 'cancelled' });
    expect(fhirReferralStatus('expired', false)).toEqual({ serviceRequest: 'revoked', task: 'failed', businessStatus: 'expired' });
  });
});
