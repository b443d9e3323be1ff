import {
  ageInYears,
  interpretValue,
  pickRange,
  readBackMatches,
  toCatalogueValue,
  type CatalogueTest,
  type RangeRow,
} from './interpretation';
import { buildAck, parseOru } from './hl7';
import { routineDeadline, turnaroundDeadline, DEFAULT_LAB_ORDER_POLICY } from './lab-order';

const row = (r: Partial<RangeRow>): RangeRow => ({
  sex: null,
  ageMinYears: null,
  ageMaxYears: null,
  refLow: null,
  refHigh: null,
  criticalLow: null,
  criticalHigh: null,
  ...r,
});
const potassium: CatalogueTest = {
  loinc: '2823-3',
  name: 'Potassium',
  unit: 'mmol/L',
  altUnits: [],
  physioLow: 1,
  physioHigh: 10,
  ranges: [row({ refLow: 3.5, refHigh: 5.0, criticalLow: 2.8, criticalHigh: 6.2 })],
};
const glucose: CatalogueTest = {
  loinc: '2345-7',
  name: 'Glucose',
  unit: 'mmol/L',
  altUnits: [{ unit: 'mg/dL', factor: 0.0555 }],
  physioLow: 0.5,
  physioHigh: 60,
  ranges: [row({ refLow: 3.9, refHigh: 6.1, criticalLow: 2.6, criticalHigh: 26.9 })],
};
const haemoglobin: RangeRow[] = [
  row({ sex: 'male', refLow: 130, refHigh: 180, criticalLow: 66, criticalHigh: 199 }),
  row({ sex: 'female', refLow: 120, refHigh: 160, criticalLow: 66, criticalHigh: 199 }),
  row({ ageMinYears: 0, ageMaxYears: 17, refLow: 110, refHigh: 160, criticalLow: 66, criticalHigh: 199 }),
];

describe('interpreting a lab value', () => {
  test('flags potassium N, L, H, LL and HH against its range and critical limits, limits inclusive', () => {
    const r = potassium.ranges[0]!;
    expect([4.2, 3.5, 5.0, 3.2, 5.6, 2.7, 6.3, 2.8, 6.2].map((v) => interpretValue(v, r))).toEqual([
      'N',
      'N',
      'N',
      'L',
      'H',
      'LL',
      'HH',
      'L',
      'H',
    ]);
  });

  test("reads haemoglobin against the range for the patient's sex, and a child's against the paediatric band", () => {
    expect(interpretValue(125, pickRange(haemoglobin, 'male', 40))).toBe('L');
    expect(interpretValue(125, pickRange(haemoglobin, 'female', 40))).toBe('N');
    expect(pickRange(haemoglobin, 'female', 10)?.refLow).toBe(110);
    expect(interpretValue(115, pickRange(haemoglobin, 'male', 10))).toBe('N');
  });

  test('with no range for the patient there is nothing to flag', () => {
    expect(pickRange([row({ sex: 'male', refLow: 1 })], 'female', 30)).toBeUndefined();
    expect(interpretValue(0, undefined)).toBe('N');
  });

  test('converts glucose in mg/dL by the catalogue factor, and refuses units it cannot convert', () => {
    expect(toCatalogueValue(glucose, '2345-7', 100, 'mg/dL')).toEqual({ value: 5.55 });
    expect(toCatalogueValue(glucose, '2345-7', 5.5, 'mmol/l')).toEqual({ value: 5.5 });
    expect(toCatalogueValue(glucose, '2345-7', 5.5, 'g/L')).toMatchObject({ code: 'wrong_unit' });
  });

  test('refuses unknown tests, values that are not finite numbers and values no living patient has', () => {
    expect(toCatalogueValue(undefined, '9999-9', 1, 'mmol/L')).toMatchObject({ code: 'unknown_test' });
    expect(toCatalogueValue(potassium, '2823-3', Number.NaN, 'mmol/L')).toMatchObject({ code: 'not_finite' });
    expect(toCatalogueValue(potassium, '2823-3', null, 'mmol/L')).toMatchObject({ code: 'not_finite' });
    expect(toCatalogueValue(potassium, '2823-3', '4.1', 'mmol/L')).toMatchObject({ code: 'not_finite' });
    expect(toCatalogueValue(potassium, '2823-3', 45, 'mmol/L')).toMatchObject({ code: 'impossible_value' });
    expect(toCatalogueValue(glucose, '2345-7', 2000, 'mg/dL')).toMatchObject({ code: 'impossible_value' });
  });

  test('a read-back matches in the catalogue unit or the unit reported, and nothing else', () => {
    const r = { value: 6.8, unit: 'mmol/L', reportedValue: 6.8, reportedUnit: 'mmol/L' };
    expect(readBackMatches(r, { value: 6.8, unit: 'mmol/l' })).toBe(true);
    expect(readBackMatches(r, { value: 6.3, unit: 'mmol/L' })).toBe(false);
    expect(readBackMatches(r, { value: 6.8, unit: 'mg/dL' })).toBe(false);
  });

  test('counts whole years of age', () => {
    expect(ageInYears('1970-05-05', '2026-05-04T10:00:00Z')).toBe(55);
    expect(ageInYears('1970-05-05', '2026-05-05T10:00:00Z')).toBe(56);
    expect(ageInYears(null, '2026-05-05')).toBeNull();
  });
});

describe('turnaround deadlines', () => {
  test('stat in an hour, urgent in four, routine in fourteen calendar days', () => {
    const at = '2026-11-26T10:00:00.000Z';
    expect(turnaroundDeadline('stat', at, DEFAULT_LAB_ORDER_POLICY)).toBe('2026-11-26T11:00:00.000Z');
    expect(turnaroundDeadline('urgent', at, DEFAULT_LAB_ORDER_POLICY)).toBe('2026-11-26T14:00:00.000Z');
    expect(turnaroundDeadline('routine', at, DEFAULT_LAB_ORDER_POLICY)).toBe(routineDeadline(at, 14));
    expect(routineDeadline(at, 14)).toBe('2026-12-10T10:00:00.000Z');
  });
});

describe('HL7 v2 ORU^R01', () => {
  const oru = (obx: string[], obr = 'OBR|1|ORDER-1|F-77|24331-1^Lipid panel^LN', orc = 'ORC|RE|ORDER-1|F-77') =>
    ['MSH|^~\\&|LIS|LAB|ENGINE|CITY|20261126120000||ORU^R01^ORU_R01|MSG-1|P|2.5.1', 'PID|1||P1', orc, obr, ...obx].join('\r');

  test('reads the placer order number and each OBX: LOINC, value, unit, range, flag and status', () => {
    const p = parseOru(oru(['OBX|1|NM|2093-3^Cholesterol^LN||5.5|mmol/L|0-5.2|H|||F', 'OBX|2|NM|2085-9^HDL^LN||1.2|mmol/L|>1.0|N|||C']));
    expect(p).toEqual({
      ok: true,
      message: {
        controlId: 'MSG-1',
        placerOrderId: 'ORDER-1',
        fillerOrderId: 'F-77',
        results: [
          { loinc: '2093-3', value: 5.5, unit: 'mmol/L', status: 'final', referenceRange: '0-5.2', abnormalFlag: 'H' },
          { loinc: '2085-9', value: 1.2, unit: 'mmol/L', status: 'corrected', referenceRange: '>1.0', abnormalFlag: 'N' },
        ],
      },
    });
  });

  test('accepts newline-separated segments too, and a text value becomes NaN for the validator to refuse', () => {
    const p = parseOru(oru(['OBX|1|ST|2093-3^Cholesterol^LN||high|mmol/L']).replace(/\r/g, '\n'));
    expect(p.ok && Number.isNaN(p.message.results[0]!.value)).toBe(true);
  });

  test('refuses what is not an ORU^R01 with a placer order and LOINC-coded OBX, with the reason', () => {
    expect(parseOru('hello')).toMatchObject({ ok: false, code: 'AR' });
    expect(parseOru(oru([]))).toMatchObject({ ok: false, reason: 'no OBX segment', controlId: 'MSG-1' });
    expect(parseOru(oru(['OBX|1|NM|2093-3^Cholesterol^L||5.5|mmol/L']))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('LOINC'),
    });
    expect(parseOru(oru(['OBX|1|NM|2093-3^C^LN||5.5|mmol/L'], 'OBR|1', 'ORC|RE'))).toMatchObject({
      ok: false,
      reason: 'no placer order number in OBR-2 or ORC-2',
    });
  });

  test('answers with an ACK naming the message it answers, and the reason when refused', () => {
    const ack = buildAck({
      code: 'AE',
      answeredControlId: 'MSG-1',
      ackControlId: 'ACK-1',
      at: '2026-11-26T12:00:00.000Z',
      reason: 'unknown order',
    });
    const [msh, msa, err] = ack.split('\r');
    expect(msh).toBe('MSH|^~\\&|CLINICAL-ENGINE|CITY|LIS|LAB|20261126120000||ACK^R01^ACK|ACK-1|P|2.5.1');
    expect(msa).toBe('MSA|AE|MSG-1|unknown order');
    expect(err).toContain('unknown order');
  });
});
