/**
 * What the Temporal server itself stores, read without the payload key (as anyone with access to
 * the server, its database or the UI without our codec would): no patient name, birth date or
 * result value, only ciphertext. The same history decoded with the key does hold the values,
 * so their absence in the raw history means something.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { ENCRYPTED_ENCODING } from '../platform/codec';
import { payloadCodec, temporalAddress } from '../platform/temporal';
import { daysFromNow, makeClinic, makeSlot } from './fixtures';
import { jsonRequest, startTestEngine, type TestEngine } from './helpers';

let engine: TestEngine;
let raw: Client;
beforeAll(async () => {
  // The CDS Hooks call takes its workflow path here (the fallback; the fast path writes no history): that history is checked.
  engine = await startTestEngine({ configOverrides: { CDS_INFERENCE_PORT: '0' } });
  // A client with no codec and no converter of ours: histories come back as the server holds them.
  raw = new Client({
    connection: await Connection.connect({ address: temporalAddress(engine.config) }),
    namespace: engine.config.TEMPORAL_NAMESPACE,
  });
});
afterAll(async () => {
  await raw.connection.close();
  await engine.stop();
});

const NAME = { given: 'Ottoline', family: 'Zwingmann-Quaresma' };
const BIRTH_DATE = '1931-07-19';
/** Distinctive result values: glucose 7.431 mmol/L (feature glu = 133.758 mg/dL), BMI 36.17. */
const GLUCOSE = 7.431;
const BMI = 36.17;

const obs = (loinc: string, value: number, unit: string) => ({
  resource: {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: loinc }] },
    valueQuantity: { value, unit },
    effectiveDateTime: new Date(Date.now() - 2 * 86_400_000).toISOString(),
  },
});
const bundle = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'searchset', entry });

/** Every string and byte string in a history, bytes read as latin1 (what a raw reader sees). */
function haystack(value: unknown, out: string[] = []): string[] {
  if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('latin1'));
  else if (typeof value === 'string' || typeof value === 'number') out.push(String(value));
  else if (Array.isArray(value)) for (const v of value) haystack(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) haystack(v, out);
  return out;
}

/** The same history's payloads decrypted with the key: the control that the values are in there. */
async function decrypted(value: unknown, out: string[] = []): Promise<string[]> {
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const p = value as { metadata?: Record<string, Uint8Array>; data?: Uint8Array };
    if (p.metadata?.encoding && Buffer.from(p.metadata.encoding).toString() === ENCRYPTED_ENCODING && p.data) {
      const [plain] = await payloadCodec(engine.config).decode([{ metadata: p.metadata, data: p.data }]);
      out.push(Buffer.from(plain!.data ?? []).toString());
    } else {
      for (const v of Object.values(value)) await decrypted(v, out);
    }
  }
  return out;
}

test('histories on the Temporal server hold no patient name, birth date or result value, only ciphertext', async () => {
  const patient = await engine.db
    .insertInto('patients')
    .values({
      full_name: `${NAME.given} ${NAME.family}`,
      birth_date: BIRTH_DATE,
      sex: 'female',
      phone: '+7 900 555 01 23',
      home_clinic_id: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const clinic = await makeClinic(engine.db);
  const slot = await makeSlot(engine.db, clinic, daysFromNow(6));
  const init = jsonRequest('POST', await engine.token('registrar', { clinicIds: [clinic.clinicId] }), {
    slotId: slot.id,
    patientId: patient.id,
  });
  (init.headers as Record<string, string>)['idempotency-key'] = `privacy-${randomUUID()}`;
  const booked = await engine.app.request('/appointments', init);
  expect(booked.status).toBe(201);
  const { id: appointmentId } = (await booked.json()) as { id: string };

  const hookInstance = randomUUID();
  const cds = await engine.app.request(
    '/cds-services/diabetes-progression',
    jsonRequest('POST', await engine.token('doctor'), {
      hook: 'patient-view',
      hookInstance,
      context: { userId: 'Practitioner/dr-1', patientId: 'ehr-privacy-1' },
      prefetch: {
        patient: {
          resourceType: 'Patient',
          id: 'ehr-privacy-1',
          gender: 'female',
          birthDate: BIRTH_DATE,
          name: [{ given: [NAME.given], family: NAME.family }],
        },
        labs: bundle([
          obs('2093-3', 5.83, 'mmol/L'),
          obs('13457-7', 3.27, 'mmol/L'),
          obs('2085-9', 1.09, 'mmol/L'),
          obs('2571-8', 2.71, 'mmol/L'),
          obs('2345-7', GLUCOSE, 'mmol/L'),
          obs('2160-0', 97.3, 'umol/L'),
        ]),
        vitals: bundle([obs('39156-5', BMI, 'kg/m2'), obs('8480-6', 147, 'mm[Hg]'), obs('8462-4', 93, 'mm[Hg]')]),
      },
    }),
  );
  expect(cds.status).toBe(200);
  const assessments = await engine.db
    .selectFrom('cds_assessments')
    .select('request_key')
    .where('request_key', 'like', `cds-${hookInstance}-%`)
    .execute();
  expect(assessments).toHaveLength(1);

  for (const workflowId of [`booking-${appointmentId}`, assessments[0]!.request_key]) {
    const history = await raw.workflow.getHandle(workflowId).fetchHistory();
    const plain = haystack(history).join('\n');
    expect(plain).toContain(ENCRYPTED_ENCODING);
    for (const secret of [
      NAME.given,
      NAME.family,
      BIRTH_DATE,
      '19.07.1931',
      String(GLUCOSE),
      String(GLUCOSE * 18),
      String(BMI),
      '97.3',
      '+7 900 555',
    ]) {
      expect([workflowId, secret, plain.includes(secret)]).toEqual([workflowId, secret, false]);
    }
    // With the key the same history reads: the booking's slot, the assessment's result values.
    const clear = (await decrypted(history)).join('\n');
    expect(clear).toContain(workflowId.startsWith('booking-') ? slot.id : String(BMI));
    expect(plain).not.toContain(slot.id);
  }
});
