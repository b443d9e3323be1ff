import { CARE_POLICY, careCutoffs, careRelationship, type CareFacts, type CareSubject } from './care-relationship';

const NOW = new Date('2026-12-07T10:00:00Z');
const days = (n: number) => new Date(NOW.getTime() + n * 86_400_000);
const DOC = 'doc-1';
const CLINIC = 'clinic-1';
const doctor: CareSubject = { practitionerId: DOC, clinicIds: [CLINIC] };
const registrar: CareSubject = { practitionerId: null, clinicIds: [CLINIC] };
const none = (): CareFacts => ({ visits: [], referrals: [], orders: [], attachments: [] });

describe('the care relationship', () => {
  test('a booked visit with the doctor grants from its booking until the window after it closes', () => {
    const facts = { ...none(), visits: [{ status: 'booked' as const, practitionerId: DOC, clinicId: CLINIC, endsAt: days(3) }] };
    expect(careRelationship(doctor, facts, NOW)).toBe('visit');
    const past = {
      ...none(),
      visits: [{ status: 'fulfilled' as const, practitionerId: DOC, clinicId: CLINIC, endsAt: days(-CARE_POLICY.visitAfterDays + 1) }],
    };
    expect(careRelationship(doctor, past, NOW)).toBe('visit');
    const lapsed = {
      ...none(),
      visits: [{ status: 'fulfilled' as const, practitionerId: DOC, clinicId: CLINIC, endsAt: days(-CARE_POLICY.visitAfterDays - 1) }],
    };
    expect(careRelationship(doctor, lapsed, NOW)).toBeNull();
  });

  test("a cancelled, expired, no-show or lapsed hold grants nothing, to the doctor or the clinic's registrar", () => {
    for (const status of ['cancelled', 'expired', 'held', 'offered', 'noshow'] as const) {
      const facts = { ...none(), visits: [{ status, practitionerId: DOC, clinicId: CLINIC, endsAt: days(1), holdExpiresAt: days(-0.01) }] };
      expect(careRelationship(doctor, facts, NOW)).toBeNull();
      expect(careRelationship(registrar, facts, NOW)).toBeNull();
    }
  });

  test("a live hold grants while it lasts (the registrar who just made it sees the patient's visits)", () => {
    const facts = {
      ...none(),
      visits: [{ status: 'held' as const, practitionerId: DOC, clinicId: CLINIC, endsAt: days(2), holdExpiresAt: days(0.01) }],
    };
    expect(careRelationship(registrar, facts, NOW)).toBe('visit');
    expect(careRelationship(doctor, facts, NOW)).toBe('visit');
  });

  test('a visit with another doctor of the same clinic grants the registrar, not the doctor', () => {
    const facts = { ...none(), visits: [{ status: 'booked' as const, practitionerId: 'doc-2', clinicId: CLINIC, endsAt: days(1) }] };
    expect(careRelationship(doctor, facts, NOW)).toBeNull();
    expect(careRelationship(registrar, facts, NOW)).toBe('visit');
  });

  test('an open referral grants both ends; a closed one for a while; a cancelled one never', () => {
    const ref = { referringPractitionerId: 'doc-2', targetPractitionerId: DOC, clinicIds: ['clinic-2', CLINIC, null] };
    expect(careRelationship(doctor, { ...none(), referrals: [{ ...ref, status: 'booked', closedAt: null }] }, NOW)).toBe('referral');
    expect(careRelationship(registrar, { ...none(), referrals: [{ ...ref, status: 'created', closedAt: null }] }, NOW)).toBe('referral');
    expect(careRelationship(doctor, { ...none(), referrals: [{ ...ref, status: 'closed', closedAt: days(-5) }] }, NOW)).toBe('referral');
    expect(
      careRelationship(
        doctor,
        { ...none(), referrals: [{ ...ref, status: 'closed', closedAt: days(-CARE_POLICY.referralClosedDays - 1) }] },
        NOW,
      ),
    ).toBeNull();
    expect(careRelationship(doctor, { ...none(), referrals: [{ ...ref, status: 'cancelled', closedAt: days(-1) }] }, NOW)).toBeNull();
  });

  test('an order grants the doctor who placed it until its results were acknowledged plus the window', () => {
    const order = { orderingPractitionerId: DOC };
    expect(careRelationship(doctor, { ...none(), orders: [{ ...order, status: 'final', acknowledgedAt: null }] }, NOW)).toBe('lab-order');
    expect(careRelationship(doctor, { ...none(), orders: [{ ...order, status: 'acknowledged', acknowledgedAt: days(-2) }] }, NOW)).toBe(
      'lab-order',
    );
    expect(
      careRelationship(
        doctor,
        { ...none(), orders: [{ ...order, status: 'closed', acknowledgedAt: days(-CARE_POLICY.orderAcknowledgedDays - 1) }] },
        NOW,
      ),
    ).toBeNull();
    expect(careRelationship(doctor, { ...none(), orders: [{ ...order, status: 'cancelled', acknowledgedAt: null }] }, NOW)).toBeNull();
    expect(careRelationship(registrar, { ...none(), orders: [{ ...order, status: 'final', acknowledgedAt: null }] }, NOW)).toBeNull();
  });

  test("attachment to the caller's clinic grants while it lasts", () => {
    const att = (from: Date, until: Date | null) => ({ ...none(), attachments: [{ clinicId: CLINIC, from, until }] });
    expect(careRelationship(doctor, att(days(-400), null), NOW)).toBe('attachment');
    expect(careRelationship(registrar, att(days(-400), null), NOW)).toBe('attachment');
    expect(careRelationship(doctor, att(days(-400), days(-1)), NOW)).toBeNull();
    expect(careRelationship({ practitionerId: 'doc-9', clinicIds: ['clinic-9'] }, att(days(-400), null), NOW)).toBeNull();
  });

  test("the cut-offs are the policy's days before now", () => {
    const c = careCutoffs(NOW, { visitAfterDays: 1, referralClosedDays: 2, orderAcknowledgedDays: 3 });
    expect(c.visitEndedAfter.toISOString()).toBe('2026-12-06T10:00:00.000Z');
    expect(c.referralClosedAfter.toISOString()).toBe('2026-12-05T10:00:00.000Z');
    expect(c.orderAcknowledgedAfter.toISOString()).toBe('2026-12-04T10:00:00.000Z');
  });
});
