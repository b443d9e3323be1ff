import { judgeOru, readOru, type JudgeContext, type ReadOru } from './hl7-intake';
import type { CatalogueTest } from './interpretation';

const ORDER = '6f1c2a4e-0000-4000-8000-000000000001';
const PATIENT = '0b8d9e7a-0000-4000-8000-000000000002';
const K: CatalogueTest = {
  loinc: '2823-3',
  name: 'Potassium',
  unit: 'mmol/L',
  altUnits: [{ unit: 'mEq/L', factor: 1 }],
  physioLow: 1,
  physioHigh: 10,
  ranges: [],
};
const NA: CatalogueTest = { loinc: '2951-2', name: 'Sodium', unit: 'mmol/L', altUnits: [], physioLow: 90, physioHigh: 200, ranges: [] };

const ctx = (over: Partial<JudgeContext> = {}): JudgeContext => ({
  order: { id: ORDER, patientId: PATIENT, status: 'received', tests: ['2823-3', '2951-2'] },
  patient: { id: PATIENT, fullName: 'Иванов Пётр Сергеевич', birthDate: '1965-03-04' },
  catalogue: [K, NA],
  reportedLoincs: [],
  ...over,
});

function message(
  obx: string[],
  pid = `PID|1||${PATIENT}^^^CITY^MR||Иванов^Петр||19650304|M`,
  extra: { head?: string[]; control?: string } = {},
): string {
  return [
    `MSH|^~\\&|LIS|CITYLAB|ENGINE|PC|20261126120000||ORU^R01^ORU_R01|${extra.control ?? 'C-1'}|P|2.5.1`,
    ...(extra.head ?? []),
    pid,
    `ORC|RE|${ORDER}`,
    `OBR|1|${ORDER}|F-1|2823-3^K^LN`,
    ...obx,
  ].join('\r');
}

const read = (text: string): ReadOru => {
  const r = readOru(text, Buffer.byteLength(text));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.message;
};

describe('reading an ORU^R01 whole', () => {
  test('reads the sender, the patient, the order and every OBX', () => {
    const m = read(message(['OBX|1|NM|2823-3^K^LN||4.1|mmol/L|||||F', 'OBX|2|NM|2951-2^Na^LN||140|mmol/L|||||F']));
    expect(m).toMatchObject({
      controlId: 'C-1',
      sendingApplication: 'LIS',
      sendingFacility: 'CITYLAB',
      patientIds: [PATIENT],
      familyName: 'Иванов',
      birthDate: '1965-03-04',
      placerOrderId: ORDER,
    });
    expect(m.obx.map((o) => [o.sequence, o.loinc, o.rawValue, o.unit])).toEqual([
      [1, '2823-3', '4.1', 'mmol/L'],
      [2, '2951-2', '140', 'mmol/L'],
    ]);
  });

  test.each([
    ['no MSH', 'PID|1||x', 'not_hl7'],
    ['another message type', message(['OBX|1|NM|2823-3^K^LN||4.1|mmol/L']).replace('ORU^R01^ORU_R01', 'ADT^A01'), 'not_oru'],
    ['no control id', message(['OBX|1|NM|2823-3^K^LN||4.1|mmol/L'], undefined, { control: '' }), 'no_control_id'],
    ['no PID', message(['OBX|1|NM|2823-3^K^LN||4.1|mmol/L'], 'NTE|1||no patient'), 'segment_count'],
    ['an empty PID-3', message(['OBX|1|NM|2823-3^K^LN||4.1|mmol/L'], 'PID|1||'), 'no_patient_id'],
    [
      'OBX before OBR',
      message([]).replace(`OBR|1|${ORDER}|F-1|2823-3^K^LN`, `OBX|1|NM|2823-3^K^LN||4.1|mmol/L\rOBR|1|${ORDER}`),
      'segment_order',
    ],
    ['a missing OBX in the numbering', message(['OBX|1|NM|2823-3^K^LN||4.1|mmol/L', 'OBX|3|NM|2951-2^Na^LN||140|mmol/L']), 'obx_sequence'],
    ['no OBX', message([]), 'no_obx'],
    ['a second PID', message(['OBX|1|NM|2823-3^K^LN||4.1|mmol/L'], undefined, { head: ['PID|1||other'] }), 'segment_count'],
    ['a garbage segment name', message(['OBX|1|NM|2823-3^K^LN||4.1|mmol/L', 'ob|x']), 'bad_segment'],
  ])('refuses a message with %s (AR, every problem named)', (_what, text, code) => {
    const r = readOru(text, Buffer.byteLength(text));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.code)).toContain(code);
  });

  test('refuses a message over the size limit whole, never a cut part of it', () => {
    const r = readOru(message(['OBX|1|NM|2823-3^K^LN||4.1|mmol/L']), 2 * 1024 * 1024);
    expect(r).toMatchObject({ ok: false, controlId: 'C-1', problems: [{ code: 'too_large' }] });
  });

  test('a 200 KB message keeps every one of its results', () => {
    const obx = Array.from({ length: 150 }, (_, i) => `OBX|${i + 1}|NM|2823-3^K^LN||4.1|mmol/L|||||F|${'x'.repeat(1300)}`);
    const text = message(obx);
    expect(Buffer.byteLength(text)).toBeGreaterThan(200_000);
    expect(read(text).obx).toHaveLength(150);
  });
});

describe('judging a message against its order', () => {
  test("a whole message for the order's patient is accepted with every result", () => {
    const v = judgeOru(read(message(['OBX|1|NM|2823-3^K^LN||4.1|mmol/L|||||F', 'OBX|2|NM|2951-2^Na^LN||140|mmol/L|||||P'])), ctx());
    expect(v).toEqual({
      code: 'AA',
      corrections: 0,
      results: [
        { loinc: '2823-3', value: 4.1, unit: 'mmol/L', status: 'final' },
        { loinc: '2951-2', value: 140, unit: 'mmol/L', status: 'preliminary' },
      ],
    });
  });

  test.each([
    ['another patient in PID-3', `PID|1||${ORDER}^^^CITY^MR||Иванов^Петр||19650304`, 'patient_mismatch'],
    ['another family name', `PID|1||${PATIENT}||Петров^Петр||19650304`, 'name_mismatch'],
    ['another birth date', `PID|1||${PATIENT}||Иванов^Пётр||19650305`, 'birth_date_mismatch'],
  ])('refuses %s as an identity problem (AE), nothing filed', (_what, pid, code) => {
    const v = judgeOru(read(message(['OBX|1|NM|2823-3^K^LN||4.1|mmol/L'], pid)), ctx());
    expect(v).toMatchObject({ code: 'AE', kind: 'identity', problems: [{ code }] });
  });

  test('a name and birth date left out are not held against the message; ё and е are one letter', () => {
    expect(judgeOru(read(message(['OBX|1|NM|2823-3^K^LN||4.1|mmol/L'], `PID|1||${PATIENT}`)), ctx()).code).toBe('AA');
    expect(judgeOru(read(message(['OBX|1|NM|2823-3^K^LN||4.1|mmol/L'], `PID|1||${PATIENT}||ИВАНОВ^ПЕТР`)), ctx()).code).toBe('AA');
  });

  test('one bad OBX refuses the whole message and every bad one is named', () => {
    const v = judgeOru(
      read(
        message([
          'OBX|1|NM|2823-3^K^LN||4.1|mmol/L|||||F',
          'OBX|2|ST|2951-2^Na^LN||high|mmol/L',
          'OBX|3|NM|718-7^Hb^LN||140|g/L',
          'OBX|4|NM|2823-3^K^LN||4.2|mmol/L',
        ]),
      ),
      ctx(),
    );
    expect(v.code).toBe('AE');
    if (v.code === 'AE')
      expect(v.problems.map((p) => [p.sequence, p.code])).toEqual([
        [2, 'wrong_type'],
        [3, 'unknown_test'],
        [4, 'repeated_test'],
      ]);
  });

  test.each([
    ['a wrong unit', 'OBX|1|NM|2823-3^K^LN||4.1|g/L', 'wrong_unit'],
    ['an impossible value', 'OBX|1|NM|2823-3^K^LN||41|mmol/L', 'impossible_value'],
    ['a value that is not a number', 'OBX|1|NM|2823-3^K^LN||4,1|mmol/L', 'not_finite'],
    ['a status that is not F, P or C', 'OBX|1|NM|2823-3^K^LN||4.1|mmol/L|||||X', 'bad_status'],
    ['a code that is not LOINC', 'OBX|1|NM|2823-3^K^L||4.1|mmol/L', 'not_loinc'],
    ['a correction of nothing reported', 'OBX|1|NM|2823-3^K^LN||4.1|mmol/L|||||C', 'nothing_to_correct'],
  ])('refuses %s', (_what, obx, code) => {
    expect(judgeOru(read(message([obx])), ctx())).toMatchObject({ code: 'AE', kind: 'results', problems: [{ code }] });
  });

  test('a correction (OBX-11 C) of a reported result is taken as one', () => {
    const v = judgeOru(
      read(message(['OBX|1|NM|2823-3^K^LN||5.9|mmol/L|||||C'])),
      ctx({ reportedLoincs: ['2823-3'], order: { ...ctx().order, status: 'final' } }),
    );
    expect(v).toMatchObject({ code: 'AA', corrections: 1, results: [{ status: 'corrected', value: 5.9 }] });
  });

  test('an order that takes no results now is refused as a state problem', () => {
    expect(
      judgeOru(read(message(['OBX|1|NM|2823-3^K^LN||4.1|mmol/L'])), ctx({ order: { ...ctx().order, status: 'collected' } })),
    ).toMatchObject({ code: 'AE', kind: 'state' });
  });
});
