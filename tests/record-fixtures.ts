/**
 * A patient with data in two clinics, made through the API: an appointment at clinic A (booked by
 * A's registrar), a referral from a doctor of lab clinic B to A's specialty, a lab order at B with
 * a final critical potassium (so a critical-value event), and a CDS assessment row.
 */
import { randomUUID } from 'node:crypto';
import { daysFromNow, makeClinic, makeSlot, type TestClinic } from './fixtures';
import { jsonRequest, type TestEngine } from './helpers';
import { labApi, makeLabClinic, makeLabPatient, type LabClinic } from './lab-fixtures';

export type Json = Record<string, any>;

export async function call(
  engine: TestEngine,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const init = jsonRequest(method, token, body);
  init.headers = { ...(init.headers as Record<string, string>), ...headers };
  const res = await engine.app.request(path, init);
  return { status: res.status, body: (await res.json()) as Json };
}

export interface RecordWorld {
  a: TestClinic;
  b: LabClinic;
  patientId: string;
  appointmentId: string;
  referralId: string;
  labOrderId: string;
  assessmentId: string;
}

export async function makeRecordWorld(engine: TestEngine): Promise<RecordWorld> {
  const a = await makeClinic(engine.db);
  const b = await makeLabClinic(engine.db);
  const patientId = await makeLabPatient(engine.db, 'female');
  const registrarA = await engine.token('registrar', { id: `registrar-${a.clinicId.slice(0, 8)}`, clinicId: a.clinicId });

  const slot = await makeSlot(engine.db, a, daysFromNow(3));
  const booked = await call(
    engine,
    'POST',
    '/appointments',
    registrarA,
    { slotId: slot.id, patientId },
    { 'idempotency-key': `rec-${randomUUID()}` },
  );
  if (booked.status !== 201) throw new Error(`book: ${booked.status} ${JSON.stringify(booked.body)}`);

  const doctorB = await engine.token('doctor', { id: `dr-${b.doctorId.slice(0, 8)}`, practitionerId: b.doctorId });
  const referred = await call(
    engine,
    'POST',
    '/referrals',
    doctorB,
    { patientId, referringPractitionerId: b.doctorId, specialty: a.specialty, reason: 'palpitations', icd10: 'R00.2' },
    { 'idempotency-key': `ref-${randomUUID()}` },
  );
  if (referred.status !== 201) throw new Error(`refer: ${referred.status} ${JSON.stringify(referred.body)}`);

  const lab = labApi(engine, b);
  const ordered = await lab.order(patientId, ['2823-3'], 'stat');
  if (ordered.status !== 201) throw new Error(`order: ${ordered.status} ${JSON.stringify(ordered.body)}`);
  await lab.collectAndReceive(ordered.body.id);
  const posted = await lab.post(ordered.body.id, [{ loinc: '2823-3', value: 6.8, unit: 'mmol/L' }]);
  if (posted.status !== 200) throw new Error(`results: ${posted.status} ${JSON.stringify(posted.body)}`);

  const assessment = await engine.db
    .insertInto('cds_assessments')
    .values({
      request_key: `record-test-${randomUUID()}`,
      service_id: 'diabetes-progression',
      patient_ref: patientId,
      lab_order_id: null,
      model_id: 'diabetes-progression',
      model_version: '1.0.0',
      inputs: JSON.stringify({}),
      output: JSON.stringify({}),
      score: 0.42,
      band: 'moderate',
    })
    .returning('id')
    .executeTakeFirstOrThrow();

  return {
    a,
    b,
    patientId,
    appointmentId: booked.body.id,
    referralId: referred.body.id,
    labOrderId: ordered.body.id,
    assessmentId: assessment.id,
  };
}
