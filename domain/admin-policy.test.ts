import {
  checkCriticalRange,
  checkEffectiveFrom,
  checkEscalation,
  checkShare,
  checkWait,
  isLocalDate,
  versionInForce,
} from './admin-policy';

describe('admin policy rules', () => {
  test('a waiting time is a whole positive amount of at most a year', () => {
    expect(checkWait({ workingDays: 14 })).toBeNull();
    expect(checkWait({ hours: -2 })?.code).toBe('negative_duration');
    expect(checkWait({ seconds: 0 })?.code).toBe('negative_duration');
    expect(checkWait({ workingDays: 1.5 })?.code).toBe('negative_duration');
    expect(checkWait({ workingDays: 400 })?.code).toBe('negative_duration');
  });

  test('the escalation share lies strictly between 0 and 1', () => {
    expect(checkShare(0.5)).toBeNull();
    expect(checkShare(undefined)).toBeNull();
    for (const bad of [0, 1, 1.2, -0.1, Number.NaN]) expect(checkShare(bad)?.code).toBe('share_out_of_range');
  });

  test('the head of department is called after the covering doctor', () => {
    expect(checkEscalation(900, 2700)).toBeNull();
    expect(checkEscalation(900, 900)?.code).toBe('escalation_order');
    expect(checkEscalation(-1, 2700)?.code).toBe('negative_duration');
  });

  test('critical limits lie outside the reference interval, low below high', () => {
    const bands = [{ refLow: 3.5, refHigh: 5.1 }];
    expect(checkCriticalRange(2.5, 6.5, bands)).toBeNull();
    expect(checkCriticalRange(null, 6.5, bands)).toBeNull();
    expect(checkCriticalRange(6.5, 2.5, bands)?.code).toBe('range_inverted');
    expect(checkCriticalRange(4, 6.5, bands)?.code).toBe('range_inverted');
    expect(checkCriticalRange(2.5, 5, bands)?.code).toBe('range_inverted');
    expect(checkCriticalRange(null, null, bands)?.code).toBe('range_empty');
  });

  test('a change takes effect now or later', () => {
    const now = new Date('2026-12-07T10:00:00Z');
    expect(checkEffectiveFrom(now, now)).toBeNull();
    expect(checkEffectiveFrom(new Date('2026-12-07T09:59:59Z'), now)?.code).toBe('effective_from_in_past');
  });

  test('the version in force is the latest that has begun', () => {
    const v = [
      { effectiveFrom: new Date('2026-01-01'), n: 1 },
      { effectiveFrom: new Date('2026-06-01'), n: 2 },
      { effectiveFrom: new Date('2027-01-01'), n: 3 },
    ];
    expect(versionInForce(v, new Date('2026-07-01'))?.n).toBe(2);
    expect(versionInForce(v, new Date('2025-07-01'))).toBeUndefined();
    expect(versionInForce(v, new Date('2027-01-01'))?.n).toBe(3);
  });

  test('local dates are real calendar dates', () => {
    expect(isLocalDate('2026-12-31')).toBe(true);
    expect(isLocalDate('2026-02-30')).toBe(false);
    expect(isLocalDate('31.12.2026')).toBe(false);
  });
});
