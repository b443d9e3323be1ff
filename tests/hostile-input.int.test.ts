/**
 * Hostile input: oversized bodies (413 in the error shape), unknown fields (400 naming them),
 * SQL- and script-looking text (stored and returned verbatim, without effect), and CORS only for
 * the configured origins.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createApp } from '../api/app';
import { createLogger } from '../platform/logger';
import { makeClinic, makePatient } from './fixtures';
import { eventually, jsonRequest, startTestEngine, testConfig, type TestEngine } from './helpers';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

type Json = Record<string, any>;
const SQL_TEXT = "'; DROP TABLE patients; --";
const SCRIPT_TEXT = '<script>alert(1)</script>';

async function call(method: string, path: string, token: string | undefined, body?: unknown, headers: Record<string, string> = {}) {
  const init = jsonRequest(method, token, body);
  Object.assign(init.headers as Record<string, string>, headers);
  const res = await engine.app.request(path, init);
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Json };
}

describe('request bodies', () => {
  test('larger than 256 KiB are refused with 413 payload_too_large, before any handler runs', async () => {
    const patientId = await makePatient(engine.db);
    const big = { slotId: randomUUID(), patientId, padding: 'x'.repeat(300 * 1024) };
    const res = await call('POST', '/appointments', await engine.token('registrar'), big, { 'idempotency-key': `big-${randomUUID()}` });
    expect(res).toEqual({ status: 413, body: { error: { code: 'payload_too_large', message: expect.stringContaining('262144') } } });
  });

  test('HL7 messages may be up to 1 MiB: a 600 KiB message reaches the parser (not 413), a 2 MiB one does not', async () => {
    const lab = await engine.token('lab');
    const send = (bytes: number) =>
      engine.app.request('/lab-results/hl7v2', {
        method: 'POST',
        headers: { authorization: `Bearer ${lab}`, 'content-type': 'text/plain' },
        body: `MSH|^~\\&|X\r${'OBX|'.padEnd(bytes, 'x')}`,
      });
    const medium = await send(600 * 1024);
    expect(medium.status).not.toBe(413);
    expect(medium.status).toBeLessThan(500);
    const huge = await send(2 * 1024 * 1024);
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  test('with a field the schema does not know are refused with 400 validation_failed naming the field, and nothing is written', async () => {
    const clinic = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const doctor = await engine.token('doctor', { practitionerId: clinic.otherPractitionerId });
    const res = await call(
      'POST',
      '/referrals',
      doctor,
      {
        patientId,
        referringPractitionerId: clinic.otherPractitionerId,
        specialty: clinic.specialty,
        reason: 'chest pain',
        icd10: 'I20.8',
        isAdmin: true,
      },
      { 'idempotency-key': `unknown-${randomUUID()}` },
    );
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details).toEqual([{ path: 'isAdmin', message: 'Unknown field "isAdmin".' }]);
    expect(await engine.db.selectFrom('referrals').select('id').where('patient_id', '=', patientId).execute()).toEqual([]);
  });

  test('nested unknown fields are refused too (a lab result line)', async () => {
    const lab = await call('POST', `/lab-orders/${randomUUID()}/results`, await engine.token('lab'), {
      results: [{ loinc: '2345-7', value: 5, unit: 'mmol/L', sneaky: 1 }],
    });
    expect(lab.status).toBe(400);
    expect(lab.body.error.details).toEqual([{ path: 'results.0.sneaky', message: 'Unknown field "sneaky".' }]);
  });
});

describe('numbers a process cannot take', () => {
  test('an onboarding policy with durations beyond a year is refused (a timer that long failed the workflow task, and its queries then 500ed)', async () => {
    const clinic = await makeClinic(engine.db);
    const res = await call('POST', `/onboarding/${clinic.clinicId}/start`, await engine.token('admin'), {
      policy: { taskDeadlineSeconds: { preparation: 1e300 }, pilotPeriodSeconds: 1e300 },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error.details)).toContain('policy.taskDeadlineSeconds.preparation');
    const get = await call('GET', `/onboarding/${clinic.clinicId}`, await engine.token('admin'));
    expect(get.status).toBe(404);
  });
});

describe('text that looks like SQL or script', () => {
  test('is stored and returned verbatim, and does nothing', async () => {
    const clinic = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const doctor = await engine.token('doctor', { practitionerId: clinic.otherPractitionerId });
    const created = await call(
      'POST',
      '/referrals',
      doctor,
      {
        patientId,
        referringPractitionerId: clinic.otherPractitionerId,
        specialty: clinic.specialty,
        reason: `${SQL_TEXT} ${SCRIPT_TEXT}`,
        icd10: 'I20.8',
      },
      { 'idempotency-key': `sql-${randomUUID()}` },
    );
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const read = await call('GET', `/referrals/${id}`, doctor);
    expect(read.status).toBe(200);
    expect(read.body.reason).toBe(`${SQL_TEXT} ${SCRIPT_TEXT}`);

    // The cancel reason goes through the process and its activity into the row, verbatim.
    await eventually(
      async () =>
        (await engine.db.selectFrom('referrals').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status !== 'created' ||
        undefined,
      30_000,
      'referral offered',
    );
    const cancelled = await call('POST', `/referrals/${id}/cancel`, doctor, { reason: SCRIPT_TEXT + SQL_TEXT });
    expect(cancelled.status).toBe(200);
    const row = await engine.db
      .selectFrom('referrals')
      .select(['reason', 'cancel_reason', 'status'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ reason: `${SQL_TEXT} ${SCRIPT_TEXT}`, cancel_reason: SCRIPT_TEXT + SQL_TEXT, status: 'cancelled' });

    // The tables are all still there and the patient with them.
    const tables = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('patients', 'referrals')`.execute(engine.db);
    expect(tables.rows[0]!.n).toBe(2);
    expect(await engine.db.selectFrom('patients').select('id').where('id', '=', patientId).executeTakeFirst()).toEqual({ id: patientId });
  });
});

describe('CORS', () => {
  const allowed = 'https://ops.clinic.example';
  const app = () =>
    createApp({
      config: testConfig({ CORS_ORIGINS: allowed }),
      db: engine.db,
      temporal: engine.client,
      logger: createLogger('test', 'silent'),
    });

  test('answers a configured origin, and gives no Access-Control-Allow-Origin to any other', async () => {
    const token = await engine.token('admin');
    const ask = (origin: string) => app().request('/clinics', { headers: { origin, authorization: `Bearer ${token}` } });
    const ok = await ask(allowed);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(allowed);
    const evil = await ask('https://evil.example');
    expect(evil.status).toBe(200);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect(evil.headers.get('access-control-allow-credentials')).toBeNull();

    const preflight = await app().request('/appointments', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const goodPreflight = await app().request('/appointments', {
      method: 'OPTIONS',
      headers: { origin: allowed, 'access-control-request-method': 'POST' },
    });
    expect(goodPreflight.headers.get('access-control-allow-origin')).toBe(allowed);
  });

  test('with no origins configured (the default), no origin is answered', async () => {
    const res = await engine.app.request('/clinics', {
      headers: { origin: 'https://ops.clinic.example', authorization: `Bearer ${await engine.token('admin')}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
