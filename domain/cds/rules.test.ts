import {
  creatinineMgDl,
  egfrCard,
  egfrCkdEpi2021,
  flagCards,
  interpret,
  kdigoCategory,
  pickRange,
  reviewDraftLabOrders,
  type ReferenceRange,
} from './rules';

/** The demo catalogue's rows (db/seed.ts), as db/cds.ts returns them. */
const RANGES: ReferenceRange[] = [
  {
    loinc: '2823-3',
    name: 'Potassium',
    unit: 'mmol/L',
    sex: null,
    ref_low: 3.5,
    ref_high: 5.0,
    critical_low: 2.8,
    critical_high: 6.2,
    source: 'MSD Manual; critical: Kost, JAMA 1990',
  },
  {
    loinc: '2345-7',
    name: 'Glucose, fasting',
    unit: 'mmol/L',
    sex: null,
    ref_low: 3.9,
    ref_high: 6.1,
    critical_low: 2.6,
    critical_high: 26.9,
    source: 'MSD Manual; critical: Kost, JAMA 1990',
  },
  {
    loinc: '718-7',
    name: 'Haemoglobin',
    unit: 'g/L',
    sex: 'male',
    ref_low: 130,
    ref_high: 180,
    critical_low: 66,
    critical_high: 199,
    source: 'MSD Manual',
  },
  {
    loinc: '718-7',
    name: 'Haemoglobin',
    unit: 'g/L',
    sex: 'female',
    ref_low: 120,
    ref_high: 160,
    critical_low: 66,
    critical_high: 199,
    source: 'MSD Manual',
  },
  {
    loinc: '2085-9',
    name: 'HDL cholesterol',
    unit: 'mmol/L',
    sex: null,
    ref_low: 1.0,
    ref_high: null,
    critical_low: null,
    critical_high: null,
    source: 'NHLBI ATP III',
  },
];

describe('eGFR, CKD-EPI 2021 (creatinine, no race term)', () => {
  // Reference values worked by hand from the published equation
  // eGFR = 142 × min(Scr/κ,1)^α × max(Scr/κ,1)^−1.200 × 0.9938^age × 1.012 [female].
  test('a 50-year-old woman with creatinine 0.7 mg/dL has eGFR 105.3', () => {
    // Scr/κ = 0.7/0.7 = 1, so both min and max terms are 1.
    // 0.9938^50 = exp(50 × ln 0.9938) = exp(50 × −0.0062193) = exp(−0.310965) = 0.732740
    // 142 × 0.732740 × 1.012 = 105.2976
    expect(egfrCkdEpi2021({ creatinineMgDl: 0.7, ageYears: 50, sex: 'female' })).toBeCloseTo(105.2976, 3);
  });

  test('a 60-year-old man with creatinine 1.5 mg/dL has eGFR 53.0 (G3a)', () => {
    // Scr/κ = 1.5/0.9 = 1.666667; min term 1; max term 1.666667^−1.2 = exp(−1.2 × 0.510826) = 0.541728
    // 0.9938^60 = exp(−0.373158) = 0.688556
    // 142 × 0.541728 × 0.688556 = 52.9675
    const egfr = egfrCkdEpi2021({ creatinineMgDl: 1.5, ageYears: 60, sex: 'male' });
    expect(egfr).toBeCloseTo(52.9675, 3);
    expect(kdigoCategory(Math.round(egfr))).toBe('G3a');
  });

  test('a 40-year-old woman with low creatinine 0.5 mg/dL uses the α exponent: eGFR 121.5', () => {
    // Scr/κ = 0.5/0.7 = 0.714286; min term 0.714286^−0.241 = exp(−0.241 × −0.336472) = exp(0.081090) = 1.084468
    // max term 1; 0.9938^40 = exp(−0.248772) = 0.779758
    // 142 × 1.084468 × 0.779758 × 1.012 = 121.5193
    expect(egfrCkdEpi2021({ creatinineMgDl: 0.5, ageYears: 40, sex: 'female' })).toBeCloseTo(121.5193, 3);
  });

  test('an 80-year-old man with creatinine 3.0 mg/dL has eGFR 20.4 (G4)', () => {
    // Scr/κ = 3.0/0.9 = 3.333333; max term 3.333333^−1.2 = exp(−1.2 × 1.203973) = 0.235801
    // 0.9938^80 = exp(−0.497544) = 0.608022;  142 × 0.235801 × 0.608022 = 20.3589
    const egfr = egfrCkdEpi2021({ creatinineMgDl: 3.0, ageYears: 80, sex: 'male' });
    expect(egfr).toBeCloseTo(20.3589, 3);
    expect(kdigoCategory(Math.round(egfr))).toBe('G4');
  });

  test('creatinine in µmol/L is divided by 88.4: 100 µmol/L in a 65-year-old woman gives eGFR 53.9', () => {
    // 100 / 88.4 = 1.131222 mg/dL; Scr/κ = 1.616031; max term = 1.616031^−1.2 = 0.562161
    // 0.9938^65 = 0.667474;  142 × 0.562161 × 0.667474 × 1.012 = 53.9217
    const scr = creatinineMgDl(100, 'umol/L')!;
    expect(scr).toBeCloseTo(1.131222, 6);
    expect(creatinineMgDl(100, 'µmol/L')).toBe(scr);
    expect(egfrCkdEpi2021({ creatinineMgDl: scr, ageYears: 65, sex: 'female' })).toBeCloseTo(53.9217, 3);
    expect(creatinineMgDl(1.1, 'mg/dL')).toBe(1.1);
    expect(creatinineMgDl(1.1, 'g/L')).toBeNull();
  });

  test('refuses children and non-positive creatinine rather than returning a number', () => {
    expect(() => egfrCkdEpi2021({ creatinineMgDl: 0.7, ageYears: 12, sex: 'female' })).toThrow(RangeError);
    expect(() => egfrCkdEpi2021({ creatinineMgDl: 0, ageYears: 50, sex: 'female' })).toThrow(RangeError);
    expect(() => egfrCkdEpi2021({ creatinineMgDl: Number.NaN, ageYears: 50, sex: 'male' })).toThrow(RangeError);
  });
});

describe('KDIGO 2012 GFR categories', () => {
  test.each([
    [120, 'G1'],
    [90, 'G1'],
    [89, 'G2'],
    [60, 'G2'],
    [59, 'G3a'],
    [45, 'G3a'],
    [44, 'G3b'],
    [30, 'G3b'],
    [29, 'G4'],
    [15, 'G4'],
    [14, 'G5'],
    [0, 'G5'],
  ])('eGFR %d is category %s', (egfr, category) => {
    expect(kdigoCategory(egfr)).toBe(category);
  });
});

describe('the eGFR card', () => {
  const creatinine = { loinc: '2160-0', value: 132.6, unit: 'umol/L', effective: '2026-11-20T09:00:00Z' };
  test('reports eGFR and a warning for G3 from creatinine in µmol/L', () => {
    // 132.6 µmol/L = 1.5 mg/dL; male 60 → 52.97 → reported 53, G3a.
    const c = egfrCard({ creatinine, ageYears: 60, sex: 'male' });
    expect(c.summary).toBe('eGFR 53 mL/min/1.73m² (KDIGO G3a, mildly to moderately decreased)');
    expect(c.indicator).toBe('warning');
    expect(c.source).toEqual({
      label: 'Clinical process engine CDS',
      topic: { system: 'http://loinc.org', code: '98979-8', display: 'eGFR (CKD-EPI 2021, creatinine)' },
    });
    expect(c.summary.length).toBeLessThan(140);
  });

  test('says why it cannot calculate eGFR when sex is neither female nor male', () => {
    const c = egfrCard({ creatinine, ageYears: 60, sex: null });
    expect(c.indicator).toBe('info');
    expect(c.detail).toContain('needs sex recorded as female or male');
  });

  test('kidney failure (G5) is critical', () => {
    const c = egfrCard({ creatinine: { ...creatinine, value: 600 }, ageYears: 70, sex: 'female' });
    expect(c.summary).toMatch(/KDIGO G5/);
    expect(c.indicator).toBe('critical');
  });
});

describe('interpretation flags from the seeded reference ranges', () => {
  const potassium = pickRange(RANGES, '2823-3', 'female')!;
  test.each([
    [2.7, 'LL'],
    [2.8, 'L'],
    [3.4, 'L'],
    [3.5, 'N'],
    [4.2, 'N'],
    [5.0, 'N'],
    [5.1, 'H'],
    [6.2, 'H'],
    [6.3, 'HH'],
  ])('potassium %d mmol/L is %s', (value, flag) => {
    expect(interpret(value, potassium)).toBe(flag);
  });

  test('an open-ended range flags on its one side only (HDL low < 1.0)', () => {
    const hdl = pickRange(RANGES, '2085-9', null)!;
    expect(interpret(0.9, hdl)).toBe('L');
    expect(interpret(3.5, hdl)).toBe('N');
  });

  test("haemoglobin uses the range for the patient's sex, and none when sex is unknown", () => {
    expect(interpret(125, pickRange(RANGES, '718-7', 'male')!)).toBe('L');
    expect(interpret(125, pickRange(RANGES, '718-7', 'female')!)).toBe('N');
    expect(pickRange(RANGES, '718-7', null)).toBeUndefined();
  });

  test('makes one card per out-of-range value, critical first, skipping values in another unit', () => {
    const cards = flagCards(
      [
        { loinc: '2345-7', value: 7.4, unit: 'mmol/L', effective: '2026-11-20' },
        { loinc: '2823-3', value: 6.8, unit: 'mmol/L', effective: '2026-11-21' },
        { loinc: '2085-9', value: 1.3, unit: 'mmol/L', effective: '2026-11-20' },
        { loinc: '2345-7', value: 130, unit: 'mg/dL', effective: '2026-11-19' },
      ],
      RANGES,
      'female',
    );
    expect(cards.map((c) => [c.indicator, c.summary])).toEqual([
      ['critical', 'Potassium 6.8 mmol/L is critically high (HH)'],
      ['warning', 'Glucose, fasting 7.4 mmol/L is above the reference range (H)'],
    ]);
  });
});

describe('order-sign review of draft lab orders', () => {
  const labs = [
    { loinc: '2345-7', value: 5.2, unit: 'mmol/L', effective: '2026-11-22T08:00:00Z' },
    { loinc: '4548-4', value: 6.1, unit: '%', effective: '2026-10-01T08:00:00Z' },
    { loinc: '2160-0', value: 88.4, unit: 'umol/L', effective: '2026-06-01T08:00:00Z' },
  ];
  const base = {
    labs,
    now: '2026-11-25T10:00:00Z',
    ageYears: 50,
    sex: 'female' as const,
    testNames: { '2345-7': 'Glucose, fasting', '4548-4': 'Haemoglobin A1c', '2160-0': 'Creatinine' },
  };

  test('warns that a glucose resulted 3 days ago is probably a duplicate and offers to remove the draft', () => {
    const cards = reviewDraftLabOrders({ ...base, drafts: [{ id: 'sr-1', loinc: '2345-7', display: null }] });
    expect(cards).toHaveLength(1);
    expect(cards[0]).toMatchObject({
      indicator: 'warning',
      summary: 'Possible duplicate: Glucose, fasting was resulted 3 days ago',
      selectionBehavior: 'at-most-one',
    });
    expect(cards[0]!.suggestions![0]!.actions).toEqual([
      { type: 'delete', description: 'Remove the draft Glucose, fasting order', resourceId: 'ServiceRequest/sr-1' },
    ]);
  });

  test('an HbA1c 55 days after the last is within its 90-day window; a glucose 10 days later is not', () => {
    expect(reviewDraftLabOrders({ ...base, drafts: [{ id: null, loinc: '4548-4', display: null }] })[0]!.summary).toBe(
      'Possible duplicate: Haemoglobin A1c was resulted 55 days ago',
    );
    expect(reviewDraftLabOrders({ ...base, now: '2026-12-02T10:00:00Z', drafts: [{ id: null, loinc: '2345-7', display: null }] })).toEqual(
      [],
    );
  });

  test('a creatinine order shows the last eGFR (88.4 µmol/L = 1.0 mg/dL, woman 50 → 69, G2)', () => {
    // Scr/κ = 1/0.7 = 1.428571; 1.428571^−1.2 = 0.651805; 142 × 0.651805 × 0.732740 × 1.012 = 68.633 → 69
    const cards = reviewDraftLabOrders({ ...base, drafts: [{ id: 'sr-2', loinc: '2160-0', display: null }] });
    expect(cards).toHaveLength(1);
    expect(cards[0]!.summary).toBe('eGFR 69 mL/min/1.73m² (KDIGO G2, mildly decreased)');
  });
});
