/**
 * Diagnosis suggestions end to end: the real ONNX model on the cds worker (its scoring endpoint),
 * the API route and the CDS Hooks service, bad texts and roles refused with nothing stored, the
 * switch, and a visit completed with the doctor's code, counted in the weekly Hit@1/Hit@3.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createApp } from '../api/app';
import { ICD10_LIST_PATH } from '../api/icd10';
import { opsSummary } from '../db/ops';
import { PROJECT_ROOT } from '../platform/config';
import { createLogger } from '../platform/logger';
import { makeClinic, makePatient, makeSlot } from './fixtures';
import { eventually, jsonRequest, startTestEngine, testConfig, type TestEngine } from './helpers';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine({ configOverrides: { CDS_DIAGNOSIS_SUGGESTIONS: 'on' } });
}, 120_000);
afterAll(async () => {
  await engine?.stop();
});

type Json = Record<string, any>;
const MODELS = path.join(PROJECT_ROOT, 'models');
const meta = JSON.parse(readFileSync(path.join(MODELS, 'diagnosis-suggestions.json'), 'utf8')) as {
  labels: Array<{ code: string; title: string }>;
  lowConfidenceBelow: number;
};
const parity = JSON.parse(readFileSync(path.join(MODELS, 'golden', 'diagnosis-suggestions-parity.json'), 'utf8')) as {
  labels: string[];
  cases: Array<{ text: string; sklearn: number[] }>;
};
/** The real dev text the model is surest about (by the golden scikit-learn probabilities), and its top code. */
const sure = parity.cases.reduce((a, b) => (Math.max(...b.sklearn) > Math.max(...a.sklearn) ? b : a));
const sureTop = parity.labels[sure.sklearn.indexOf(Math.max(...sure.sklearn))]!;
const labelCodes = new Set(meta.labels.map((l) => l.code));

async function call(
  method: string,
  url: string,
  token: string | undefined,
  body?: unknown,
  app = engine.app,
): Promise<{ status: number; body: Json }> {
  const init = jsonRequest(method, token, body);
  (init.headers as Record<string, string>)['idempotency-key'] = `diag-${randomUUID()}`;
  const res = await app.request(url, init);
  return { status: res.status, body: (await res.json()) as Json };
}
const doctor = () => engine.token('doctor');
const suggestionRows = () =>
  engine.db
    .selectFrom('diagnosis_suggestions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow()
    .then((r) => Number(r.n));

describe('POST /diagnosis-suggestions', () => {
  test('answers three titled codes from the label set for a real dev text, and stores them with the text', async () => {
    const res = await call('POST', '/diagnosis-suggestions', await doctor(), { text: sure.text });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      modelId: 'diagnosis-suggestions',
      lowConfidence: false,
      text: sure.text,
      notice: expect.stringContaining('Подсказка, а не диагноз'),
    });
    const suggestions = res.body.suggestions as Array<{ code: string; title: string; probability: number; band: string }>;
    expect(suggestions).toHaveLength(3);
    expect(suggestions[0]!.code).toBe(sureTop);
    for (const s of suggestions) {
      expect(labelCodes.has(s.code)).toBe(true);
      expect(s.title).toBe(meta.labels.find((l) => l.code === s.code)!.title);
      expect(['high', 'moderate', 'low']).toContain(s.band);
    }
    // Node's onnxruntime agrees with scikit-learn on this text (the parity test checks 200 of them).
    expect(suggestions[0]!.probability).toBeCloseTo(Math.max(...sure.sklearn), 3);
    const row = await engine.db
      .selectFrom('diagnosis_suggestions')
      .selectAll()
      .where('id', '=', res.body.suggestionId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      source: 'api',
      text: sure.text,
      codes: suggestions.map((s) => s.code),
      low_confidence: false,
      appointment_id: null,
      requested_by: 'test-doctor',
    });
  });

  test('keeps HTML and script as plain text: stored and answered exactly as sent', async () => {
    const text = '<script>alert("x")</script><b>Кашель</b> с мокротой, температура 38 & слабость';
    const res = await call('POST', '/diagnosis-suggestions', await doctor(), { text });
    expect(res.status).toBe(200);
    expect(res.body.text).toBe(text);
    const row = await engine.db
      .selectFrom('diagnosis_suggestions')
      .select('text')
      .where('id', '=', res.body.suggestionId)
      .executeTakeFirstOrThrow();
    expect(row.text).toBe(text);
  });

  test('refuses an empty, too short, non-Russian or over-long text with its code, and stores nothing', async () => {
    const before = await suggestionRows();
    const cases: Array<[unknown, number, string]> = [
      [{ text: '' }, 422, 'text_too_short'],
      [{ text: '  боль  ' }, 422, 'text_too_short'],
      [{ text: 'headache and fever for two days' }, 422, 'text_not_russian'],
      [{ text: 'боль в груди '.repeat(400) }, 422, 'text_too_long'],
      [{}, 400, 'validation_failed'],
      [{ text: 'кашель и насморк', extra: 1 }, 400, 'validation_failed'],
      [{ text: 'кашель и насморк', appointmentId: randomUUID() }, 404, 'appointment_not_found'],
    ];
    for (const [body, status, code] of cases) {
      expect(await call('POST', '/diagnosis-suggestions', await doctor(), body)).toMatchObject({ status, body: { error: { code } } });
    }
    expect(await suggestionRows()).toBe(before);
  });

  test('is for doctors and admins: patient, lab, registrar and ops tokens are refused and nothing is stored', async () => {
    const before = await suggestionRows();
    for (const role of ['patient', 'lab', 'registrar', 'ops'] as const) {
      expect(await call('POST', '/diagnosis-suggestions', await engine.token(role), { text: sure.text })).toMatchObject({ status: 403 });
    }
    expect((await call('POST', '/diagnosis-suggestions', undefined, { text: sure.text })).status).toBe(401);
    expect(await suggestionRows()).toBe(before);
    expect((await call('POST', '/diagnosis-suggestions', await engine.token('admin'), { text: sure.text })).status).toBe(200);
  });
});

describe('the CDS Hooks service', () => {
  const hookCall = (hookInstance: string, text: unknown) => ({
    hook: 'patient-view',
    hookInstance,
    context: { userId: 'Practitioner/dr-1', patientId: 'ehr-diag-1' },
    extension: { 'clinical-engine-complaints': text },
  });

  test('is listed by discovery and answers three cards with Russian titles, a band and "a suggestion, not a diagnosis"', async () => {
    const discovery = await call('GET', '/cds-services', await doctor());
    expect(discovery.body.services.map((s: Json) => s.id)).toContain('diagnosis-suggestions');
    const hookInstance = randomUUID();
    const res = await call('POST', '/cds-services/diagnosis-suggestions', await doctor(), hookCall(hookInstance, sure.text));
    expect(res.status).toBe(200);
    const cards = res.body.cards as Json[];
    expect(cards).toHaveLength(3);
    expect(cards[0]!.summary).toContain(`1. ${sureTop} ${meta.labels.find((l) => l.code === sureTop)!.title.slice(0, 40)}`);
    for (const c of cards) {
      expect(c.summary).toMatch(/— вероятность (высокая|средняя|низкая)$/);
      expect(c.detail).toContain('Подсказка, а не диагноз');
      expect(c.source).toMatchObject({ url: 'models/diagnosis-suggestions.card.md' });
    }
    // The EHR's retry finds the same stored suggestion.
    const again = await call('POST', '/cds-services/diagnosis-suggestions', await doctor(), hookCall(hookInstance, sure.text));
    expect(again.body.cards).toEqual(cards);
    const rows = await engine.db
      .selectFrom('diagnosis_suggestions')
      .select(['id', 'source', 'patient_ref'])
      .where('request_key', 'like', `diag:${hookInstance}:%`)
      .execute();
    expect(rows).toEqual([{ id: cards[0]!.extension['clinical-engine-suggestion'].id, source: 'cds-hooks', patient_ref: 'ehr-diag-1' }]);
  });

  test('says it is not sure, in one card, when no code reaches the threshold', async () => {
    // Digits and a few Cyrillic letters: nothing like the training texts.
    const res = await call('POST', '/cds-services/diagnosis-suggestions', await doctor(), hookCall(randomUUID(), 'ааа 123 456 789 000'));
    expect(res.status).toBe(200);
    expect(res.body.cards).toHaveLength(1);
    expect(res.body.cards[0].summary).toMatch(/не уверена/);
  });

  test('refuses a call without the text, or with a bad text, and stores nothing', async () => {
    const before = await suggestionRows();
    expect(await call('POST', '/cds-services/diagnosis-suggestions', await doctor(), hookCall(randomUUID(), undefined))).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed' } },
    });
    expect(await call('POST', '/cds-services/diagnosis-suggestions', await doctor(), hookCall(randomUUID(), 'fever'))).toMatchObject({
      status: 422,
      body: { error: { code: 'text_too_short' } },
    });
    expect(await suggestionRows()).toBe(before);
  });
});

test('when the switch is off, discovery does not list the service and the route answers 404 feature_off', async () => {
  const app = createApp({
    config: testConfig({ CLINICAL_TASK_QUEUE: engine.config.CLINICAL_TASK_QUEUE, CDS_DIAGNOSIS_SUGGESTIONS: 'off' }),
    db: engine.db,
    temporal: engine.client,
    logger: createLogger('test', 'silent'),
  });
  const token = await doctor();
  const discovery = await call('GET', '/cds-services', token, undefined, app);
  expect(discovery.body.services.map((s: Json) => s.id)).not.toContain('diagnosis-suggestions');
  expect(await call('POST', '/diagnosis-suggestions', token, { text: sure.text }, app)).toMatchObject({
    status: 404,
    body: { error: { code: 'feature_off' } },
  });
  expect(
    (
      await call(
        'POST',
        '/cds-services/diagnosis-suggestions',
        token,
        { hook: 'patient-view', hookInstance: randomUUID(), context: { userId: 'u', patientId: 'p' } },
        app,
      )
    ).status,
  ).toBe(404);
});

test("a visit completed with the doctor's ICD-10 code stores it on the visit and in the record (FHIR Condition) and counts Hit@1/Hit@3", async () => {
  const clinic = await makeClinic(engine.db);
  const patientId = await makePatient(engine.db);
  const registrar = await engine.token('registrar', { clinicId: clinic.clinicId });
  const visitDoctor = await engine.token('doctor', { id: 'doctor-diag-1', practitionerId: clinic.practitionerId });
  const slot = await makeSlot(engine.db, clinic, 10, 30);
  const booked = await call('POST', '/appointments', registrar, { slotId: slot.id, patientId, confirm: true });
  expect(booked.status).toBe(201);
  const id = booked.body.id as string;
  expect((await call('POST', `/appointments/${id}/check-in`, registrar)).status).toBe(202);
  await eventually(
    async () => (await engine.db.selectFrom('appointments').select('status').where('id', '=', id).executeTakeFirst())?.status === 'arrived',
    30_000,
    'arrived',
  );

  // Another doctor may not ask on this visit; its own doctor may.
  const other = await engine.token('doctor', { id: 'doctor-diag-2', practitionerId: clinic.otherPractitionerId });
  expect((await call('POST', '/diagnosis-suggestions', other, { text: sure.text, appointmentId: id })).status).toBe(403);
  const suggested = await call('POST', '/diagnosis-suggestions', visitDoctor, { text: sure.text, appointmentId: id });
  expect(suggested.status).toBe(200);
  const second = (suggested.body.suggestions as Array<{ code: string }>)[1]!.code;
  // A subcategory of it from the list when it has one (the doctor writes J06.9), else the category.
  const listed = gunzipSync(readFileSync(ICD10_LIST_PATH))
    .toString('utf8')
    .split('\n')
    .map((l) => l.split(';')[0]!);
  const chosen = listed.find((c) => c.startsWith(`${second}.`)) ?? second;

  // A code that is not in the ICD-10 list is refused and nothing is stored.
  expect(await call('POST', `/appointments/${id}/complete`, visitDoctor, { diagnosisCode: 'A00.99' })).toMatchObject({
    status: 422,
    body: { error: { code: 'invalid_icd10' } },
  });
  expect(await call('POST', `/appointments/${id}/complete`, visitDoctor, { diagnosisCode: 'J06-9' })).toMatchObject({ status: 422 });
  expect(await engine.db.selectFrom('visit_diagnoses').selectAll().where('appointment_id', '=', id).executeTakeFirst()).toBeUndefined();

  // The doctor chose the second suggestion (in lower case: the list's spelling is kept): in the top 3, not the top 1.
  const done = await call('POST', `/appointments/${id}/complete`, visitDoctor, { diagnosisCode: chosen.toLowerCase() });
  expect(done.status).toBe(202);
  expect(done.body.diagnosis.code).toBe(chosen);
  const stored = await engine.db.selectFrom('visit_diagnoses').selectAll().where('appointment_id', '=', id).executeTakeFirstOrThrow();
  expect(stored).toMatchObject({
    code: chosen,
    suggestion_id: suggested.body.suggestionId,
    in_top1: false,
    in_top3: true,
    clinic_id: clinic.clinicId,
    recorded_by: 'doctor-diag-1',
  });
  await eventually(
    async () =>
      (await engine.db.selectFrom('appointments').select('status').where('id', '=', id).executeTakeFirst())?.status === 'fulfilled',
    30_000,
    'fulfilled',
  );

  const fhir = await call('GET', `/patients/${patientId}/record?format=fhir`, visitDoctor);
  expect(fhir.status).toBe(200);
  const condition = (fhir.body.entry as Json[]).map((e) => e.resource).find((r) => r.resourceType === 'Condition');
  expect(condition).toMatchObject({
    category: [{ coding: [{ code: 'encounter-diagnosis' }] }],
    code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: chosen, display: stored.title }] },
    subject: { reference: `Patient/${patientId}` },
    evidence: [{ detail: [{ reference: `Appointment/${id}` }] }],
  });

  const summary = await opsSummary(engine.db);
  expect(summary.diagnosisSuggestions.byClinic.find((c) => c.clinicId === clinic.clinicId)).toMatchObject({
    evaluated: 1,
    hit1: 0,
    hit3: 1,
    hit3Rate: 1,
  });
  const metrics = await engine.app.request('/metrics', { headers: { authorization: `Bearer ${await engine.token('ops')}` } });
  const text = await metrics.text();
  const code = (await engine.db.selectFrom('clinics').select('code').where('id', '=', clinic.clinicId).executeTakeFirstOrThrow()).code;
  expect(text).toContain(`clinical_diagnosis_suggestion_hit3_ratio{clinic="${code}"} 1`);
  expect(text).toMatch(/clinical_diagnosis_suggestion_low_confidence_ratio 0(\.\d+)?\n/);
});
