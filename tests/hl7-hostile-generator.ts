/**
 * A seeded generator of ORU^R01 variants for the hostile run: each variant is a whole, valid
 * message for one order, or that message broken in one or more ways that make it not whole or
 * not valid (the generator knows which, so the run can check every answer). Breaks that could
 * leave a valid shorter message (a cut at a segment boundary, an optional ORC dropped) are kept
 * apart as valid controls, never counted as hostile.
 */
export interface HostileOrder {
  orderId: string;
  patientId: string;
  familyName: string;
  birthDate: string;
}

export interface Variant {
  /** What was done, e.g. 'shuffled', 'wrong-unit+cut'. */
  kind: string;
  /** True only for a message that is whole and valid for its order (AA is right; anything else is wrong). */
  valid: boolean;
  bytes: Buffer;
  controlId: string;
  orderId: string;
}

/** mulberry32: small, fast, seeded. */
export function seeded(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}

type Rng = ReturnType<typeof seeded>;
type Segments = string[];

const WRONG_UNITS = ['mg/dL', 'g/L', 'mEq/L', '%', 'mmol', 'mmol/', 'kg', ''];
const WRONG_TYPES = ['ST', 'SN', 'CE', 'TX', 'NM~NM', ''];
const WRONG_VALUES = ['4,2', 'high', '', '1e3', '4.2.1', 'NaN', 'Infinity', '-', '0x10', '4.2x', '\u0000', '<3.5', '99', '-4', '1000000'];

export function validSegments(o: HostileOrder, controlId: string, facility: string, rng: Rng): Segments {
  const k = (3.5 + rng.int(16) / 10).toFixed(1);
  const na = String(135 + rng.int(11));
  return [
    `MSH|^~\\&|LIS|${facility}|ENGINE|PC|20261207010000||ORU^R01^ORU_R01|${controlId}|P|2.5.1`,
    `PID|1||${o.patientId}^^^CITY^MR||${o.familyName}^Hostile||${o.birthDate.replace(/-/g, '')}|M`,
    `ORC|RE|${o.orderId}|F-${controlId}`,
    `OBR|1|${o.orderId}|F-${controlId}|2823-3^K+Na^LN|||20261207090000`,
    `OBX|1|NM|2823-3^Potassium^LN||${k}|mmol/L|3.5-5.0|N|||F`,
    `OBX|2|NM|2951-2^Sodium^LN||${na}|mmol/L|135-145|N|||F`,
  ];
}

const setField = (segment: string, index: number, value: string) => {
  const fields = segment.split('|');
  while (fields.length <= index) fields.push('');
  fields[index] = value;
  return fields.join('|');
};
const obxIndexes = (s: Segments) => s.map((x, i) => (x.startsWith('OBX|') ? i : -1)).filter((i) => i >= 0);

/** Breaks that each make the message not whole or not valid. `pick` gives any order; another one is drawn until it is not this message's. */
export function breakers(rng: Rng, pick: () => HostileOrder): Record<string, (s: Segments) => Segments> {
  let current: Segments = [];
  const others = () => {
    for (;;) {
      const o = pick();
      if (!current.some((x) => x.includes(o.orderId) || x.includes(o.patientId))) return o;
    }
  };
  const withCurrent = (f: (s: Segments) => Segments) => (s: Segments) => {
    current = s;
    return f(s);
  };
  return Object.fromEntries(
    Object.entries({
      shuffled: (s) => {
        for (;;) {
          const t = [...s].sort(() => rng.next() - 0.5);
          if (t.some((x, i) => x !== s[i])) return t;
        }
      },
      'missing-msh': (s) => s.filter((x) => !x.startsWith('MSH|')),
      'missing-pid': (s) => s.filter((x) => !x.startsWith('PID|')),
      'missing-obr': (s) => s.filter((x) => !x.startsWith('OBR|')),
      'missing-first-obx': (s) => s.filter((_, i) => i !== obxIndexes(s)[0]),
      'no-obx': (s) => s.filter((x) => !x.startsWith('OBX|')),
      'cut-in-unit': (s) => {
        const last = obxIndexes(s).at(-1)!;
        const seg = s[last]!;
        const unitStart = seg.split('|').slice(0, 6).join('|').length + 1;
        return [...s.slice(0, last), seg.slice(0, unitStart + rng.int(5))];
      },
      'cut-field-value': (s) => s.map((x, i) => (i === obxIndexes(s)[0] ? setField(x, 5, x.split('|')[5]!.slice(0, 0)) : x)),
      'wrong-type': (s) => {
        const at = rng.pick(obxIndexes(s));
        return s.map((x, i) => (i === at ? setField(x, 2, rng.pick(WRONG_TYPES)) : x));
      },
      'wrong-value': (s) => s.map((x, i) => (i === obxIndexes(s)[0] ? setField(x, 5, rng.pick(WRONG_VALUES)) : x)),
      'wrong-unit': (s) => {
        const at = rng.pick(obxIndexes(s));
        return s.map((x, i) => (i === at ? setField(x, 6, rng.pick(WRONG_UNITS)) : x));
      },
      'unknown-test': (s) =>
        s.map((x, i) =>
          i === obxIndexes(s)[1]
            ? setField(x, 3, rng.pick(['718-7^Hb^LN', '2345-7^Glucose^LN', '9999-9^X^LN', '2823-3^K^L', '2823-3^K^SNM']))
            : x,
        ),
      'repeated-test': (s) => s.map((x, i) => (i === obxIndexes(s)[1] ? setField(x, 3, '2823-3^Potassium^LN') : x)),
      'bad-status': (s) => s.map((x, i) => (i === obxIndexes(s)[0] ? setField(x, 11, rng.pick(['X', 'D', 'I', 'W', 'f', 'FF', 'R'])) : x)),
      'wrong-patient': (s) => s.map((x) => (x.startsWith('PID|') ? setField(x, 3, `${others().patientId}^^^CITY^MR`) : x)),
      'unknown-patient': (s) =>
        s.map((x) =>
          x.startsWith('PID|') ? setField(x, 3, rng.pick(['', '12345', 'PATIENT-REF', '00000000-0000-4000-8000-000000000000'])) : x,
        ),
      'wrong-name': (s) => s.map((x) => (x.startsWith('PID|') ? setField(x, 5, rng.pick(['Петров^Иван', 'Smith^John', 'X'])) : x)),
      'wrong-birth-date': (s) =>
        s.map((x) => (x.startsWith('PID|') ? setField(x, 7, rng.pick(['19000101', '2026', 'yesterday', '20991231'])) : x)),
      'other-order-same-patient-id': (s) => {
        const o = others();
        return s.map((x) => (x.startsWith('OBR|') || x.startsWith('ORC|') ? setField(x, 2, o.orderId) : x));
      },
      'unknown-order': (s) =>
        s.map((x) =>
          x.startsWith('OBR|') || x.startsWith('ORC|')
            ? setField(x, 2, rng.pick(['', '123', 'ORDER-1', '00000000-0000-4000-8000-000000000001']))
            : x,
        ),
      'not-oru': (s) => s.map((x) => (x.startsWith('MSH|') ? setField(x, 8, rng.pick(['ADT^A01', 'ORM^O01', 'ORU^R30', '', 'ORU'])) : x)),
      'no-control-id': (s) => s.map((x) => (x.startsWith('MSH|') ? setField(x, 9, '') : x)),
      'bad-delimiters': (s) =>
        s.map((x) => (x.startsWith('MSH|') ? x.replace('MSH|^~\\&', rng.pick(['MSH#^~\\&', 'MSH|^~\\', 'MSH', 'msh|^~\\&'])) : x)),
      'garbage-segment': (s) => {
        const t = [...s];
        t.splice(1 + rng.int(s.length - 1), 0, rng.pick(['ob|x', '|||', '\u0000\u0000', 'OBXX|1', '12|3']));
        return t;
      },
      'control-bytes-in-value': (s) =>
        s.map((x, i) => (i === obxIndexes(s)[0] ? setField(x, 5, `4.${rng.pick(['\u000b', '\u001c', '\u0000', '\uFFFD', 'é'])}1`) : x)),
      'too-many-obx': (s) => [
        ...s.filter((x) => !x.startsWith('OBX|')),
        ...Array.from({ length: 201 }, (_, i) => `OBX|${i + 1}|NM|2823-3^Potassium^LN||4.1|mmol/L|||||F`),
      ],
      'second-pid': (s) => {
        const t = [...s];
        t.splice(
          2,
          0,
          s.find((x) => x.startsWith('PID|'))!,
        );
        return t;
      },
    } satisfies Record<string, (s: Segments) => Segments>).map(([name, f]) => [name, withCurrent(f)]),
  );
}

/** Valid controls: the message left whole, or changed in a way that keeps it whole and valid. */
export function keepers(rng: Rng): Record<string, (s: Segments) => Segments> {
  return {
    valid: (s) => s,
    'valid-no-orc': (s) => s.filter((x) => !x.startsWith('ORC|')),
    'valid-no-name': (s) => s.map((x) => (x.startsWith('PID|') ? setField(setField(x, 5, ''), 7, '') : x)),
    'valid-notes': (s) => [...s, `NTE|1||${'a note '.repeat(1 + rng.int(50))}`],
    'valid-unit-case': (s) => s.map((x, i) => (i === obxIndexes(s)[0] ? setField(x, 6, 'MMOL/L') : x)),
  };
}

/** A huge message: valid shape, padded with notes past the size limit (refused whole, never cut). */
export function huge(segments: Segments, bytes: number): Segments {
  const line = `NTE|1||${'x'.repeat(1000)}`;
  return [...segments.slice(0, 4), ...Array.from({ length: Math.ceil(bytes / line.length) }, () => line), ...segments.slice(4)];
}
