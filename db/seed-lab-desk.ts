/**
 * The demo city's unmatched lab message, so the lab bench's queue shows one on a first start: an
 * ORU^R01 for a demo order whose PID names another demo patient, kept raw and answered AE as the
 * intake answers such a message (api/lab-messages/intake.ts). Keyed by its control id: seeding twice is harmless.
 */
import { createHash } from 'node:crypto';
import { nameUuid } from '../domain/ids';
import type { Db } from './index';
import { claimControlId, recordInbound, settleAnswer } from './lab-messages';

const demoId = (key: string) => nameUuid('demo', key);
export const DEMO_UNMATCHED_CONTROL_ID = 'DEMO-UNMATCHED-1';

export async function seedDemoUnmatchedMessage(db: Db): Promise<boolean> {
  const clinicId = demoId('clinic:PC-01');
  if (!(await db.selectFrom('clinics').select('id').where('id', '=', clinicId).executeTakeFirst())) return false;
  if (await db.selectFrom('lab_messages').select('id').where('control_id', '=', DEMO_UNMATCHED_CONTROL_ID).executeTakeFirst()) return false;
  const orderId = demoId('lab-order:collected');
  const otherPatient = demoId('patient:5');
  const raw = Buffer.from(
    [
      `MSH|^~\\&|LIS|CITYLAB|ENGINE|PC|20261207080000||ORU^R01^ORU_R01|${DEMO_UNMATCHED_CONTROL_ID}|P|2.5.1`,
      `PID|1||${otherPatient}^^^CITY^MR`,
      `ORC|RE|${orderId}|F-${DEMO_UNMATCHED_CONTROL_ID}`,
      `OBR|1|${orderId}|F-${DEMO_UNMATCHED_CONTROL_ID}|2823-3^Potassium^LN|||20261207070000||||||||||||||||F`,
      'OBX|1|NM|2823-3^Potassium^LN||4.6|mmol/L|3.5-5.1|N|||F',
    ].join('\r'),
    'utf8',
  );
  const sha256 = createHash('sha256').update(raw).digest('hex');
  const messageId = await recordInbound(db, {
    transport: 'http',
    sendingApplication: 'LIS',
    sendingFacility: 'CITYLAB',
    caller: 'demo-seed',
    peer: null,
    clinicId,
    controlId: DEMO_UNMATCHED_CONTROL_ID,
    sha256,
    raw,
  });
  await claimControlId(db, {
    sendingApplication: 'LIS',
    sendingFacility: 'CITYLAB',
    controlId: DEMO_UNMATCHED_CONTROL_ID,
    messageId,
    sha256,
  });
  const problems = [
    { code: 'patient_mismatch', message: 'PID-3 does not name the patient of the order', segment: 'PID', sequence: 1, field: 3 },
  ];
  const ack = [
    `MSH|^~\\&|ENGINE|PC|LIS|CITYLAB|20261207080000||ACK^R01^ACK|ACK-${messageId.slice(0, 8)}|P|2.5.1`,
    `MSA|AE|${DEMO_UNMATCHED_CONTROL_ID}|patient_mismatch: PID-3 does not name the patient of the order`,
    'ERR|||207^Application internal error^HL70357|E||PID^1^3',
  ].join('\r');
  await settleAnswer(db, messageId, {
    status: 'unmatched',
    ackCode: 'AE',
    ack,
    reason: 'patient_mismatch',
    problems,
    placerOrderId: orderId,
  });
  return true;
}
