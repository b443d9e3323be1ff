/**
 * The ACK for an inbound message, the same bytes on HTTP and MLLP: @medplum/core's
 * Hl7Message.buildAck (MSH mirrored, MSA with the answered MSH-10), our reason in MSA-3 and one
 * ERR segment per problem (ERR-2 where, ERR-3 the HL7 table 0357 code, ERR-8 what). A message
 * too broken to parse gets the same shape from domain/hl7.ts.
 */
import { Hl7Message, Hl7Segment } from '@medplum/core';
import { buildAck as buildPlainAck } from '../../domain/hl7';
import { normalizeHl7, type AckCode, type IntakeProblem } from '../../domain/hl7-intake';

/** HL7 table 0357 (message error condition codes) for our problem codes. */
const ERROR_CODE: Record<string, string> = {
  not_hl7: '100^Segment sequence error',
  bad_segment: '100^Segment sequence error',
  segment_order: '100^Segment sequence error',
  segment_count: '100^Segment sequence error',
  obx_sequence: '100^Segment sequence error',
  no_obx: '101^Required field missing',
  no_control_id: '101^Required field missing',
  no_patient_id: '101^Required field missing',
  no_placer: '101^Required field missing',
  no_sender: '101^Required field missing',
  wrong_type: '102^Data type error',
  not_finite: '102^Data type error',
  bad_birth_date: '102^Data type error',
  bad_control_id: '102^Data type error',
  bad_status: '103^Table value not found',
  not_loinc: '103^Table value not found',
  wrong_unit: '103^Table value not found',
  unknown_test: '103^Table value not found',
  not_oru: '200^Unsupported message type',
  unknown_order: '204^Unknown key identifier',
  patient_mismatch: '204^Unknown key identifier',
  name_mismatch: '204^Unknown key identifier',
  birth_date_mismatch: '204^Unknown key identifier',
  control_id_reused: '205^Duplicate key identifier',
};
const MAX_ERR = 20;

const ESC: Record<string, string> = { '\\': '\\E\\', '|': '\\F\\', '^': '\\S\\', '&': '\\T\\', '~': '\\R\\' };
/** Our text inside a field: delimiters escaped, control characters gone, short. */
export const hl7Text = (s: string, max = 200) =>
  s
    .slice(0, max)
    .replace(/[\x00-\x1f\x7f]/g, ' ')
    .replace(/[\\|^&~]/g, (c) => ESC[c]!);
/** Nothing in an ACK may break MLLP framing (VT, FS) or a segment (stray CR inside a field). */
const framingSafe = (s: string) => s.replace(/[\x00-\x0c\x0e-\x1f\x7f]/g, ' ');

function errSegment(p: IntakeProblem, code: AckCode, context: Hl7Message['context']): Hl7Segment {
  const where = p.segment ? [p.segment, p.sequence ?? '', p.field ?? ''].join('^') : '';
  const condition = `${ERROR_CODE[p.code] ?? '207^Application internal error'}^HL70357`;
  return new Hl7Segment(['ERR', '', where, condition, 'E', '', '', '', hl7Text(`${p.code}: ${p.message}`)], context);
}

/** The ACK text (segments joined by CR). `at` and `ackControlId` name the answer for the parse-less fallback. */
export interface AckOptions {
  code: AckCode;
  reason: string;
  problems: readonly IntakeProblem[];
  at: string;
  ackControlId: string;
  controlId: string;
}

export function buildIntakeAck(raw: string, opts: AckOptions): string {
  let msg: Hl7Message | undefined;
  try {
    const text = normalizeHl7(raw);
    // Only the header is needed: the ACK mirrors MSH.
    const end = text.indexOf('\r');
    if (/^MSH\|\^~\\&#?\|/.test(text)) msg = Hl7Message.parse(end < 0 ? text : text.slice(0, end));
  } catch {
    msg = undefined;
  }
  if (!msg) {
    return framingSafe(
      buildPlainAck({
        code: opts.code,
        answeredControlId: opts.controlId,
        ackControlId: opts.ackControlId,
        at: opts.at,
        reason: opts.reason,
      }),
    );
  }
  const ack = msg.buildAck({ ackCode: opts.code });
  const header = ack.header;
  // The mirrored sender and receiver, cut to a sane length: a hostile MSH is not echoed whole.
  for (const i of [3, 4, 5, 6, 12]) header.setField(i, header.getField(i)?.toString().slice(0, 180) ?? '');
  header.setField(10, hl7Text(opts.ackControlId, 20));
  ack.setSegment('MSA', new Hl7Segment(['MSA', opts.code, hl7Text(opts.controlId, 199), hl7Text(opts.reason)], ack.context));
  const problems = opts.problems.slice(0, MAX_ERR);
  const errs = problems.map((p) => errSegment(p, opts.code, ack.context));
  if (opts.problems.length > MAX_ERR) {
    errs.push(errSegment({ code: 'more', message: `${opts.problems.length - MAX_ERR} more problems not listed` }, opts.code, ack.context));
  }
  return framingSafe(new Hl7Message([...ack.segments, ...errs], ack.context).toString());
}
