/**
 * An inbound ORU^R01 judged whole, the same for HTTP and MLLP: first its shape (readOru: one MSH,
 * one PID with PID-3, one OBR naming our order, OBX after it, numbered in sequence), then against
 * the order it names (judgeOru: the patient's identity, every OBX against the order's tests and
 * units, corrections only of a result already reported). Nothing is filed unless every part
 * holds. Pure: parsing by @medplum/core's Hl7Message, no I/O, no clock.
 */
import { Hl7Message } from '@medplum/core';
import { toCatalogueValue, type CatalogueTest } from './interpretation';
import type { LabOrderStatus, ResultEntry } from './lab-order';

/** The largest message taken (bytes), on both transports; HTTP's body limit is the same. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** The most results one message may carry. */
export const MAX_OBX = 200;

export type AckCode = 'AA' | 'AE' | 'AR';

/** One problem, named where it is (segment and its position, field), for an ERR segment. */
export interface IntakeProblem {
  code: string;
  message: string;
  segment?: string;
  sequence?: number;
  field?: number;
}

export interface OruObx {
  sequence: number;
  setId: string;
  valueType: string;
  loinc: string;
  codingSystem: string;
  rawValue: string;
  unit: string;
  rawStatus: string;
}

export interface ReadOru {
  controlId: string;
  sendingApplication: string;
  sendingFacility: string;
  /** PID-3 identifiers (CX.1 of each repetition). */
  patientIds: string[];
  familyName: string;
  givenName: string;
  /** PID-7 as YYYY-MM-DD, or '' when not given. */
  birthDate: string;
  placerOrderId: string;
  obx: OruObx[];
}

export type ReadResult =
  | { ok: true; message: ReadOru }
  | { ok: false; controlId: string; sendingApplication: string; sendingFacility: string; problems: IntakeProblem[] };

/** MSH with the standard delimiters (| ^ ~ \\ &, and # for truncation since v2.7): nothing else is read. */
const STANDARD_MSH = /^MSH\|\^~\\&#?\|/;
const SEGMENT_NAME = /^[A-Z][A-Z0-9]{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HL7_DATE = /^(\d{4})(\d{2})(\d{2})/;

/** A problem where it is: segment, its position, field. */
export const problem = (code: string, message: string, segment?: string, sequence?: number, field?: number): IntakeProblem => ({
  code,
  message,
  ...(segment ? { segment } : {}),
  ...(sequence ? { sequence } : {}),
  ...(field ? { field } : {}),
});

/** Text with our own CR segment separators, MLLP framing and trailing blank lines gone. */
export function normalizeHl7(text: string): string {
  return text
    .replace(/\r\n|\n/g, '\r')
    .replace(/^\x0b/, '')
    .replace(/\x1c\r?$/, '')
    .replace(/\r+$/, '')
    .replace(/^\r+/, '');
}

/** Reads an ORU^R01's shape; what breaks it is refused whole (AR) with every problem named. */
export function readOru(text: string, sizeBytes: number): ReadResult {
  const normalized = normalizeHl7(text);
  const end = normalized.indexOf('\r');
  const mshLine = normalized.startsWith('MSH') ? normalized.slice(0, end < 0 ? undefined : end) : '';
  const headerField = (i: number) => (mshLine.split(mshLine.charAt(3) || '|')[i - 1] ?? '').slice(0, 200);
  const base = { controlId: headerField(10), sendingApplication: headerField(3), sendingFacility: headerField(4) };
  const refuse = (...problems: IntakeProblem[]): ReadResult => ({ ok: false, ...base, problems });
  if (sizeBytes > MAX_MESSAGE_BYTES) {
    return refuse(problem('too_large', `the message is ${sizeBytes} bytes, over the limit of ${MAX_MESSAGE_BYTES}; none of it was taken`));
  }
  let msg: Hl7Message;
  try {
    if (!STANDARD_MSH.test(normalized)) throw new Error('no MSH');
    msg = Hl7Message.parse(normalized);
  } catch {
    return refuse({ code: 'not_hl7', message: 'not an HL7 v2 message: it does not begin with MSH|^~\\&' });
  }
  const msh = msg.header;
  if (msh.getComponent(9, 1) !== 'ORU' || msh.getComponent(9, 2) !== 'R01') {
    return refuse(problem('not_oru', 'MSH-9 is not ORU^R01', 'MSH', 1, 9));
  }
  const controlId = msh.getField(10)?.toString() ?? '';
  if (!controlId.trim()) return refuse(problem('no_control_id', 'MSH-10 message control id is empty', 'MSH', 1, 10));
  if (controlId.length > 199) return refuse(problem('bad_control_id', 'MSH-10 is longer than 199 characters', 'MSH', 1, 10));
  if (!base.sendingFacility.trim() && !base.sendingApplication.trim()) {
    return refuse(problem('no_sender', 'MSH-3 and MSH-4 (sender) are empty', 'MSH', 1, 4));
  }

  const problems = structureProblems(msg);
  if (problems.length) return refuse(...problems);
  const pid = msg.getSegment('PID')!;
  const obr = msg.getSegment('OBR')!;
  const orc = msg.getSegment('ORC');
  const patientIds = (pid.getField(3)?.components ?? []).map((rep) => (rep[0] ?? '').trim()).filter(Boolean);
  if (!patientIds.length) return refuse(problem('no_patient_id', 'PID-3 patient identifier is empty', 'PID', 1, 3));
  const rawBirth = pid.getComponent(7, 1).trim();
  const birth = HL7_DATE.exec(rawBirth);
  if (rawBirth && !birth) return refuse(problem('bad_birth_date', 'PID-7 is not an HL7 date (YYYYMMDD)', 'PID', 1, 7));
  const obrPlacer = obr.getComponent(2, 1).trim();
  const orcPlacer = orc?.getComponent(2, 1).trim() ?? '';
  if (!obrPlacer && !orcPlacer) return refuse(problem('no_placer', 'no placer order number in OBR-2 or ORC-2', 'OBR', 1, 2));
  if (obrPlacer && orcPlacer && obrPlacer !== orcPlacer) {
    return refuse(problem('placer_mismatch', 'ORC-2 and OBR-2 name different orders', 'OBR', 1, 2));
  }
  const obx = msg.getAll('OBX').map((s, i): OruObx => ({
    sequence: i + 1,
    setId: s.getField(1)?.toString().trim() ?? '',
    valueType: s.getField(2)?.toString().trim() ?? '',
    loinc: s.getComponent(3, 1).trim(),
    codingSystem: s.getComponent(3, 3).trim(),
    rawValue: s.getField(5)?.toString() ?? '',
    unit: s.getComponent(6, 1).trim(),
    rawStatus: s.getField(11)?.toString().trim() ?? '',
  }));
  const numbering = obx
    .filter((o) => o.setId && o.setId !== String(o.sequence))
    .map((o) =>
      problem(
        'obx_sequence',
        `OBX-1 set id ${o.setId.slice(0, 10)} where ${o.sequence} was due: a result is missing or out of order`,
        'OBX',
        o.sequence,
        1,
      ),
    );
  if (numbering.length) return refuse(...numbering.slice(0, 20));
  return {
    ok: true,
    message: {
      controlId,
      sendingApplication: base.sendingApplication,
      sendingFacility: base.sendingFacility,
      patientIds,
      familyName: pid.getComponent(5, 1).trim(),
      givenName: pid.getComponent(5, 2).trim(),
      birthDate: birth ? `${birth[1]}-${birth[2]}-${birth[3]}` : '',
      placerOrderId: (obrPlacer || orcPlacer).slice(0, 200),
      obx,
    },
  };
}

/** The segment grammar we take: MSH, then one PID, then [ORC] one OBR, then OBX (with NTE and Z segments between). */
function structureProblems(msg: Hl7Message): IntakeProblem[] {
  const names = msg.segments.map((s) => s.name);
  const bad = names.findIndex((n) => !SEGMENT_NAME.test(n));
  if (bad >= 0) return [{ code: 'bad_segment', message: `segment ${bad + 1} has no valid segment name`, sequence: bad + 1 }];
  const count = (n: string) => names.filter((x) => x === n).length;
  const problems: IntakeProblem[] = [];
  if (count('MSH') !== 1) problems.push(problem('segment_count', 'the message must have exactly one MSH', 'MSH'));
  if (count('PID') !== 1) problems.push(problem('segment_count', 'the message must have exactly one PID segment', 'PID'));
  if (count('OBR') !== 1) problems.push(problem('segment_count', 'the message must have exactly one OBR (one order per message)', 'OBR'));
  if (count('ORC') > 1) problems.push(problem('segment_count', 'the message must have at most one ORC', 'ORC'));
  if (count('OBX') === 0) problems.push(problem('no_obx', 'no OBX segment: the message carries no result', 'OBX'));
  if (count('OBX') > MAX_OBX) problems.push(problem('too_many_obx', `more than ${MAX_OBX} OBX segments`, 'OBX'));
  if (problems.length) return problems;
  const at = (n: string) => names.indexOf(n);
  const orc = at('ORC');
  if (!(at('PID') < at('OBR') && (orc < 0 || (at('PID') < orc && orc < at('OBR'))))) {
    problems.push(problem('segment_order', 'segments out of order: PID, then ORC, then OBR must come before the results', 'OBR'));
  }
  const firstObx = at('OBX');
  if (firstObx < at('OBR')) problems.push(problem('segment_order', 'an OBX comes before the OBR it belongs to', 'OBX', 1));
  return problems;
}

/** The order a message is judged against, read by the intake. */
export interface JudgeContext {
  order: { id: string; patientId: string; status: LabOrderStatus; tests: string[] };
  patient: { id: string; fullName: string; birthDate: string };
  catalogue: CatalogueTest[];
  /** Tests that already have a reported (not preliminary) value: the only ones a correction may correct. */
  reportedLoincs: string[];
}

export type Verdict =
  | { code: 'AA'; results: ResultEntry[]; corrections: number }
  | { code: 'AE'; kind: 'identity' | 'results' | 'state'; problems: IntakeProblem[] };

const ACCEPTING: readonly LabOrderStatus[] = ['received', 'resulted', 'final', 'acknowledged'];
const OBX_STATUS: Record<string, ResultEntry['status']> = { F: 'final', P: 'preliminary', C: 'corrected', '': 'final' };
const NUMBER = /^[-+]?\d+(\.\d+)?$/;

/** Name words, compared without case, ё as е, hyphens and apostrophes as spaces. */
function nameWords(s: string): string[] {
  return s
    .toLowerCase()
    .replace(/ё/g, 'е')
    .replace(/[-'’.,]/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/**
 * Does the PID name the order's patient: PID-3 must carry the patient's id; a family or given name
 * in PID-5 must be among the record's name words; a birth date in PID-7 must equal the record's.
 */
export function identityProblems(m: ReadOru, patient: JudgeContext['patient']): IntakeProblem[] {
  const problems: IntakeProblem[] = [];
  if (!m.patientIds.some((id) => UUID.test(id) && id.toLowerCase() === patient.id.toLowerCase())) {
    problems.push(problem('patient_mismatch', 'PID-3 does not name the patient of the order', 'PID', 1, 3));
  }
  const words = new Set(nameWords(patient.fullName));
  const named = [...nameWords(m.familyName), ...nameWords(m.givenName)];
  if (named.some((w) => !words.has(w))) {
    problems.push(problem('name_mismatch', "PID-5 name differs from the order's patient", 'PID', 1, 5));
  }
  if (m.birthDate && m.birthDate !== patient.birthDate) {
    problems.push(problem('birth_date_mismatch', "PID-7 birth date differs from the order's patient", 'PID', 1, 7));
  }
  return problems;
}

/** Each OBX against the order: numeric (NM), a LOINC test of this order once, a known unit, a possible value, F/P/C. */
export function resultProblems(m: ReadOru, ctx: JudgeContext): IntakeProblem[] {
  const tests = new Map(ctx.catalogue.filter((t) => ctx.order.tests.includes(t.loinc)).map((t) => [t.loinc, t]));
  const problems: IntakeProblem[] = [];
  const seen = new Map<string, number>();
  for (const o of m.obx) {
    const at = (field: number, code: string, message: string) =>
      problems.push({ code, message: `OBX ${o.sequence}: ${message}`, segment: 'OBX', sequence: o.sequence, field });
    if (o.valueType !== 'NM') {
      at(2, 'wrong_type', 'OBX-2 value type must be NM (numeric)');
      continue;
    }
    if (!o.loinc || (o.codingSystem && o.codingSystem !== 'LN')) {
      at(3, 'not_loinc', 'OBX-3 is not a LOINC code (code^text^LN)');
      continue;
    }
    const earlier = seen.get(o.loinc);
    if (earlier) {
      at(3, 'repeated_test', `OBX-3 repeats the test of OBX ${earlier}`);
      continue;
    }
    seen.set(o.loinc, o.sequence);
    const status = OBX_STATUS[o.rawStatus];
    if (!status) {
      at(11, 'bad_status', 'OBX-11 result status must be F, P or C');
      continue;
    }
    if (status === 'corrected' && !ctx.reportedLoincs.includes(o.loinc)) {
      at(11, 'nothing_to_correct', 'OBX-11 C corrects a result that was never reported');
      continue;
    }
    if (status === 'preliminary' && ctx.reportedLoincs.includes(o.loinc)) {
      at(11, 'preliminary_after_final', 'OBX-11 P for a result already reported: correct it with C');
      continue;
    }
    const value = NUMBER.test(o.rawValue.trim()) ? Number(o.rawValue) : Number.NaN;
    const checked = toCatalogueValue(tests.get(o.loinc), o.loinc, value, o.unit);
    if ('code' in checked) at(checked.code === 'wrong_unit' ? 6 : checked.code === 'unknown_test' ? 3 : 5, checked.code, checked.message);
  }
  return problems;
}

/** The whole verdict on a message that names this order: identity first, then the order's state, then every result. */
export function judgeOru(m: ReadOru, ctx: JudgeContext): Verdict {
  const identity = identityProblems(m, ctx.patient);
  if (identity.length) return { code: 'AE', kind: 'identity', problems: identity };
  if (!ACCEPTING.includes(ctx.order.status)) {
    return {
      code: 'AE',
      kind: 'state',
      problems: [problem('invalid_state', `the order is ${ctx.order.status}: it takes no results now`, 'OBR', 1, 2)],
    };
  }
  const problems = resultProblems(m, ctx);
  if (problems.length) return { code: 'AE', kind: 'results', problems };
  const results = m.obx.map((o): ResultEntry => ({
    loinc: o.loinc,
    value: Number(o.rawValue),
    unit: o.unit,
    status: OBX_STATUS[o.rawStatus],
  }));
  return { code: 'AA', results, corrections: results.filter((r) => r.status === 'corrected').length };
}

/** The placer number as one of our order ids, or null when it cannot be one. */
export function placerAsOrderId(placer: string): string | null {
  return UUID.test(placer) ? placer.toLowerCase() : null;
}

/** MSA-3 text for a set of problems: the first few, counted, without values. */
export function problemsText(problems: readonly IntakeProblem[]): string {
  const shown = problems
    .slice(0, 3)
    .map((p) => `${p.code}: ${p.message}`)
    .join('; ');
  return problems.length > 3 ? `${shown}; and ${problems.length - 3} more (see ERR)` : shown;
}
