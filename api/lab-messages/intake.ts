/**
 * The one intake of inbound lab messages, for HTTP (`POST /lab-results/hl7v2`) and MLLP alike:
 * keep the raw message with its hash, read its shape, claim its control id for its sender, match
 * it to an order of the receiving lab, judge it whole (domain/hl7-intake.ts), file it through the
 * order's process, and keep the ACK given. A message that cannot be matched waits in the
 * unmatched queue. The same message always gets the same answer.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Db } from '../../db';
import { claimControlId, judgingContext, recordInbound, settleAnswer, type MessageAnswer } from '../../db/lab-messages';
import {
  judgeOru,
  placerAsOrderId,
  problem,
  problemsText,
  readOru,
  type AckCode,
  type IntakeProblem,
  type ReadOru,
} from '../../domain/hl7-intake';
import { nameUuid } from '../../domain/ids';
import type { PostResultsAnswer } from '../../domain/lab-order';
import { postResultsUpdate } from '../../workflows/lab-order';
import { labFailure } from '../lab-order/shared';
import { buildIntakeAck } from './ack';

/** Whose orders a sender may post to: one lab clinic's, or any (admin over HTTP). */
export type SenderScope = { clinicIds: string[] } | { anyClinic: true };

export interface Inbound {
  raw: Buffer;
  transport: 'http' | 'mllp';
  /** HTTP: the token's subject. */
  caller: string | null;
  /** MLLP: the peer's address. */
  peer: string | null;
  /** The sender's scope from its MSH-3/MSH-4 (and token); null: not a trusted sender. */
  scopeFor: (sender: { sendingApplication: string; sendingFacility: string }) => SenderScope | null;
}

export interface IntakeAnswer {
  messageId: string;
  ackCode: AckCode;
  ack: string;
  status: string;
}

export interface IntakeDeps {
  db: Db;
  temporal: Client;
}

/** Takes one inbound message on either transport and answers it. Throws only when Postgres or Temporal fail (nothing is answered then). */
export async function intakeLabMessage(deps: IntakeDeps, inbound: Inbound): Promise<IntakeAnswer> {
  const { db } = deps;
  const sha256 = createHash('sha256').update(inbound.raw).digest('hex');
  const text = inbound.raw.toString('utf8');
  const read = readOru(text, inbound.raw.length);
  const head = read.ok ? read.message : read;
  const sender = { sendingApplication: head.sendingApplication, sendingFacility: head.sendingFacility };
  const controlId = head.controlId;
  const scope = inbound.scopeFor(sender);
  const messageId = await recordInbound(db, {
    transport: inbound.transport,
    ...sender,
    caller: inbound.caller,
    peer: inbound.peer,
    clinicId: scope && 'clinicIds' in scope ? (scope.clinicIds[0] ?? null) : null,
    controlId,
    sha256,
    raw: inbound.raw,
  });
  const answer = async (id: string, a: Omit<MessageAnswer, 'ack'>): Promise<IntakeAnswer> => {
    const at = new Date().toISOString();
    const problems = (a.problems ?? []) as IntakeProblem[];
    const ack = buildIntakeAck(text, { code: a.ackCode, reason: a.reason, problems, at, controlId, ackControlId: ackId(id) });
    const settled = await settleAnswer(db, id, { ...a, ack });
    return { messageId: id, ...settled };
  };
  const refuse = (code: AckCode, problems: IntakeProblem[]) =>
    answer(messageId, { status: 'refused', ackCode: code, reason: problemsText(problems), problems });

  if (!read.ok) return refuse('AR', read.problems);
  if (!scope) {
    return refuse('AR', [problem('untrusted_sender', 'MSH-4 sending facility is not a lab this engine takes results from', 'MSH', 1, 4)]);
  }
  const claim = await claimControlId(db, { ...sender, controlId, messageId, sha256 });
  if (!claim.claimed) {
    if (claim.first.sha256 !== sha256) {
      const reused = 'MSH-10 was used by this sender for a different message: send it under a new control id';
      return refuse('AE', [problem('control_id_reused', reused, 'MSH', 1, 10)]);
    }
    // An identical resend: the first answer, or (the first still unanswered, e.g. cut off by a crash) the first judged again under its own id.
    const first =
      claim.first.ack && claim.first.ackCode
        ? { ack: claim.first.ack, ackCode: claim.first.ackCode }
        : await judgeAndFile(deps, claim.first.messageId, read.message, scope, inbound, answer);
    const resent = await settleAnswer(db, messageId, {
      status: 'resent',
      ackCode: first.ackCode,
      ack: first.ack,
      reason: `identical resend of message ${claim.first.messageId}`,
    });
    return { messageId, ...resent, ack: first.ack, ackCode: first.ackCode };
  }
  return judgeAndFile(deps, messageId, read.message, scope, inbound, answer);
}

type Answer = (id: string, a: Omit<MessageAnswer, 'ack'>) => Promise<IntakeAnswer>;

async function judgeAndFile(
  deps: IntakeDeps,
  messageId: string,
  m: ReadOru,
  scope: SenderScope,
  inbound: Inbound,
  answer: Answer,
): Promise<IntakeAnswer> {
  const orderId = placerAsOrderId(m.placerOrderId);
  const ctx = orderId ? await judgingContext(deps.db, orderId) : undefined;
  const base = { placerOrderId: m.placerOrderId };
  if (!ctx || ('clinicIds' in scope && !scope.clinicIds.includes(ctx.clinicId))) {
    const problems = [
      problem('unknown_order', 'the placer order number names no order of this lab; the message waits in the unmatched queue', 'OBR', 1, 2),
    ];
    return answer(messageId, { ...base, status: 'unmatched', ackCode: 'AE', reason: problemsText(problems), problems });
  }
  const by = inbound.caller ?? `mllp:${m.sendingFacility.slice(0, 60)}`;
  const filed = await fileJudged(deps, messageId, m, ctx, by);
  if (filed.ok) return answer(messageId, { ...base, status: 'filed', ackCode: 'AA', reason: filed.reason, labOrderId: ctx.order.id });
  const status = filed.kind === 'identity' ? 'unmatched' : 'refused';
  const note = filed.kind === 'identity' ? '; the message waits in the unmatched queue' : '';
  return answer(messageId, { ...base, status, ackCode: 'AE', reason: problemsText(filed.problems) + note, problems: filed.problems });
}

export type Filing =
  | { ok: true; reason: string; answer: PostResultsAnswer }
  | { ok: false; kind: 'identity' | 'results' | 'state'; problems: IntakeProblem[] };
type OrderContext = NonNullable<Awaited<ReturnType<typeof judgingContext>>>;

/**
 * Judges a read message against an order and, if it is whole, files every result with one Update
 * (id `hl7:<message id>`, so filing the same message twice records it once). Also used when a
 * supervisor attaches an unmatched message to an order.
 */
export async function fileJudged(deps: IntakeDeps, messageId: string, m: ReadOru, ctx: OrderContext, by: string): Promise<Filing> {
  const verdict = judgeOru(m, ctx);
  if (verdict.code !== 'AA') return { ok: false, kind: verdict.kind, problems: verdict.problems };
  try {
    const result = await deps.temporal.workflow.getHandle(ctx.workflowId).executeUpdate(postResultsUpdate, {
      args: [{ results: verdict.results, by, source: 'hl7v2' }],
      updateId: `hl7:${messageId}`,
    });
    const corrections = verdict.corrections ? `, corrections ${verdict.corrections}` : '';
    const reason = `recorded ${result.recorded}, duplicates ${result.duplicates}${corrections}; order ${result.status}`;
    return { ok: true, reason, answer: result };
  } catch (err) {
    const refused = labFailure(err);
    if (!refused) throw err;
    return {
      ok: false,
      kind: 'state',
      problems: [{ code: refused.code, message: refused.message, segment: 'OBR', sequence: 1, field: 2 }],
    };
  }
}

/** MSH-10 of our ACK: derived from the message id, so the answer to a message is always named alike. */
const ackId = (messageId: string) => nameUuid('lab-order', `ack:${messageId}`).replace(/-/g, '').slice(0, 20);
