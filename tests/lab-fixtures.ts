/**
 * What the lab order tests make for themselves: a clinic with an ordering doctor, a covering doctor
 * and a head of department, its own lab order policy in seconds, patients with vitals, and helpers
 * that call the API as the doctor or the lab.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../db';
import type { LabOrderPolicy } from '../domain/lab-order';
import { jsonRequest, type TestEngine } from './helpers';

export interface LabClinic {
  clinicId: string;
  doctorId: string;
  coveringId: string;
  headId: string;
  otherDoctorId: string;
}

export const TEST_LAB_POLICY: Partial<LabOrderPolicy> = {
  escalateCoveringSeconds: 120,
  escalateHeadSeconds: 240,
  amendWindowSeconds: 2,
  maxRecollections: 1,
  cdsScheduleToCloseSeconds: 600,
};

export async function makeLabClinic(db: Db, policy: Partial<LabOrderPolicy> = {}): Promise<LabClinic> {
  const clinicId = randomUUID();
  await db
    .insertInto('clinics')
    .values({
      id: clinicId,
      code: `L-${clinicId.slice(0, 8)}`,
      name: 'Lab test clinic',
      address: 'Test street 2',
      time_zone: 'Europe/Moscow',
    })
    .execute();
  const [doctor, covering, head, other] = await db
    .insertInto('practitioners')
    .values(
      ['Dr Order', 'Dr Cover', 'Dr Head', 'Dr Other'].map((full_name) => ({
        clinic_id: clinicId,
        full_name,
        specialty: 'general-practice',
      })),
    )
    .returning('id')
    .execute();
  await db
    .insertInto('lab_escalation_contacts')
    .values({ clinic_id: clinicId, covering_practitioner_id: covering!.id, head_practitioner_id: head!.id })
    .execute();
  await db
    .insertInto('lab_order_policies')
    .values({ clinic_id: clinicId, policy: JSON.stringify({ ...TEST_LAB_POLICY, ...policy }) })
    .execute();
  return { clinicId, doctorId: doctor!.id, coveringId: covering!.id, headId: head!.id, otherDoctorId: other!.id };
}

/** A man aged about 60. */
export async function makeLabPatient(db: Db, sex: 'male' | 'female' = 'male'): Promise<string> {
  const birth = new Date(Date.now() - (60 * 365.25 + 40) * 86_400_000).toISOString().slice(0, 10);
  const row = await db
    .insertInto('patients')
    .values({ full_name: 'Lab Patient', birth_date: birth, sex, phone: null, home_clinic_id: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export function labApi(engine: TestEngine, clinic: LabClinic) {
  const doctorToken = (practitionerId = clinic.doctorId) =>
    engine.token('doctor', { id: `dr-${practitionerId.slice(0, 8)}`, practitionerId });
  const labToken = (clinicId = clinic.clinicId) => engine.token('lab', { id: `lab-${clinicId.slice(0, 8)}`, clinicId });
  const call = async (method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init = jsonRequest(method, token, body);
    init.headers = { ...(init.headers as Record<string, string>), ...headers };
    const res = await engine.app.request(path, init);
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, body: json };
  };
  return {
    doctorToken,
    labToken,
    call,
    async order(patientId: string, tests: string[], priority = 'routine', key = randomUUID()) {
      return call(
        'POST',
        '/lab-orders',
        await doctorToken(),
        { patientId, tests, priority, note: 'fasting since 8 pm' },
        { 'idempotency-key': key },
      );
    },
    async collectAndReceive(orderId: string, barcode = `BC-${orderId.slice(0, 8)}`) {
      const collected = await call('POST', `/lab-orders/${orderId}/specimen/collect`, await labToken(), { barcode });
      if (collected.status !== 200) throw new Error(`collect: ${collected.status} ${JSON.stringify(collected.body)}`);
      const received = await call('POST', `/lab-orders/${orderId}/specimen/receive`, await labToken());
      if (received.status !== 200) throw new Error(`receive: ${received.status} ${JSON.stringify(received.body)}`);
      return received.body;
    },
    async post(orderId: string, results: unknown[], headers: Record<string, string> = {}) {
      return call('POST', `/lab-orders/${orderId}/results`, await labToken(), { results }, headers);
    },
    async vitals(patientId: string, v: Record<string, number> = { weight: 98, height: 175, systolic: 150, diastolic: 95 }) {
      return call('POST', `/patients/${patientId}/vitals`, await doctorToken(), v, { 'idempotency-key': randomUUID() });
    },
    async hl7(text: string, clinicId = clinic.clinicId) {
      const res = await engine.app.request('/lab-results/hl7v2', {
        method: 'POST',
        headers: { authorization: `Bearer ${await labToken(clinicId)}`, 'content-type': 'x-application/hl7-v2+er7' },
        body: text,
      });
      return { status: res.status, body: await res.text() };
    },
  };
}

export const LIPIDS_MMOL = [
  { loinc: '2093-3', value: 5.5, unit: 'mmol/L' },
  { loinc: '13457-7', value: 3.14, unit: 'mmol/L' },
  { loinc: '2085-9', value: 1.0, unit: 'mmol/L' },
  { loinc: '2571-8', value: 3.0, unit: 'mmol/L' },
];

/** An ORU^R01 for the order; PID-3 names `patientId` (the order's patient, for it to be filed). */
export function oru(
  orderId: string,
  obx: string[],
  controlId = `MSG-${randomUUID().slice(0, 8)}`,
  patientId = 'PATIENT-REF',
  facility = 'CITYLAB',
): string {
  return [
    `MSH|^~\\&|LIS|${facility}|ENGINE|PC|20261126120000||ORU^R01^ORU_R01|${controlId}|P|2.5.1`,
    `PID|1||${patientId}^^^CITY^MR`,
    `ORC|RE|${orderId}|F-${controlId}`,
    `OBR|1|${orderId}|F-${controlId}|24331-1^Lipid panel^LN|||20261126100000||||||||||||||||F`,
    ...obx.map((o, i) => `OBX|${i + 1}|${o}`),
  ].join('\r');
}
