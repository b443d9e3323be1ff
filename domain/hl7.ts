/**
 * HL7 v2 ORU^R01 lab results in, ACK out (clinical-facts.md). Parsing by @medplum/core's
 * maintained Hl7Message; this module only reads the fields a result needs. Pure: the ACK's time
 * and control id are passed in.
 */
import { Hl7Message } from '@medplum/core';
import type { ResultEntry } from './lab-order';

export interface OruResult extends ResultEntry {
  /** OBX-7 and OBX-8 as the lab sent them (we interpret against our own catalogue). */
  referenceRange: string;
  abnormalFlag: string;
}

export interface ParsedOru {
  controlId: string;
  /** ORC-2 / OBR-2, the placer order number: our order id. */
  placerOrderId: string;
  fillerOrderId: string;
  results: OruResult[];
}

export type OruParse = { ok: true; message: ParsedOru } | { ok: false; code: 'AR'; controlId: string; reason: string };

const OBX_STATUS: Record<string, ResultEntry['status']> = { F: 'final', P: 'preliminary', C: 'corrected' };

/** Reads an ORU^R01; anything a result cannot be taken from is refused (AR) with the reason. */
export function parseOru(text: string): OruParse {
  let msg: Hl7Message;
  const normalized = text
    .replace(/\r\n|\n/g, '\r')
    .replace(/^\x0b|\x1c\r?$/g, '')
    .trim();
  try {
    msg = Hl7Message.parse(normalized);
  } catch {
    return { ok: false, code: 'AR', controlId: '', reason: 'not an HL7 v2 message (no MSH segment)' };
  }
  const msh = msg.header;
  const controlId = msh?.getField(10)?.toString() ?? '';
  const refuse = (reason: string): OruParse => ({ ok: false, code: 'AR', controlId, reason });
  if (!msh || msh.name !== 'MSH') return refuse('the first segment is not MSH');
  if (msh.getComponent(9, 1) !== 'ORU' || msh.getComponent(9, 2) !== 'R01') return refuse('MSH-9 is not ORU^R01');
  if (!controlId) return refuse('MSH-10 message control id is empty');
  const orc = msg.getSegment('ORC');
  const obr = msg.getSegment('OBR');
  const placer = (obr?.getComponent(2, 1) || orc?.getComponent(2, 1) || '').trim();
  if (!placer) return refuse('no placer order number in OBR-2 or ORC-2');
  const obxs = msg.getAll('OBX');
  if (!obxs.length) return refuse('no OBX segment');
  const results: OruResult[] = [];
  for (const [i, obx] of obxs.entries()) {
    const system = obx.getComponent(3, 3);
    const loinc = obx.getComponent(3, 1);
    if (!loinc || (system && system !== 'LN')) return refuse(`OBX ${i + 1}: OBX-3 is not a LOINC code (code^text^LN)`);
    const raw = obx.getField(5)?.toString() ?? '';
    const status = OBX_STATUS[obx.getField(11)?.toString() ?? 'F'];
    if (!status) return refuse(`OBX ${i + 1}: OBX-11 result status must be F, P or C`);
    const value = /^[-+]?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : Number.NaN;
    results.push({
      loinc,
      value,
      unit: obx.getComponent(6, 1),
      status,
      referenceRange: obx.getField(7)?.toString() ?? '',
      abnormalFlag: obx.getField(8)?.toString() ?? '',
    });
  }
  return { ok: true, message: { controlId, placerOrderId: placer, fillerOrderId: obr?.getComponent(3, 1) ?? '', results } };
}

/** HL7 timestamp YYYYMMDDHHMMSS (UTC) of an ISO instant. */
export function hl7Time(iso: string): string {
  return iso.replace(/[-:T]/g, '').slice(0, 14);
}

/** The ACK: MSH + MSA (AA / AE / AR, the answered MSH-10) + ERR with the reason when not AA. */
export function buildAck(opts: {
  code: 'AA' | 'AE' | 'AR';
  answeredControlId: string;
  ackControlId: string;
  at: string;
  reason?: string;
}): string {
  // HL7 escapes for the delimiters (\F\ field, \S\ component, \T\ subcomponent, \R\ repetition, \E\ escape).
  const ESC: Record<string, string> = { '\\': '\\E\\', '|': '\\F\\', '^': '\\S\\', '&': '\\T\\', '~': '\\R\\', '\r': ' ', '\n': ' ' };
  const clean = (s: string) => s.slice(0, 200).replace(/[\\|^&~\r\n]/g, (c) => ESC[c]!);
  const segments = [
    `MSH|^~\\&|CLINICAL-ENGINE|CITY|LIS|LAB|${hl7Time(opts.at)}||ACK^R01^ACK|${clean(opts.ackControlId)}|P|2.5.1`,
    `MSA|${opts.code}|${clean(opts.answeredControlId)}${opts.reason ? `|${clean(opts.reason)}` : ''}`,
  ];
  if (opts.code !== 'AA')
    segments.push(
      `ERR|||${opts.code === 'AR' ? '100^Segment sequence error' : '207^Application internal error'}^HL70357|E||||${clean(opts.reason ?? '')}`,
    );
  return segments.join('\r');
}
