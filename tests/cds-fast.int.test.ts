/**
 * The CDS Hooks fast path: the API scores through the cds worker's scoring endpoint and stores
 * the assessment itself (no workflow), keyed as the workflow path keys it, and falls back to
 * cdsAssessmentWorkflow when the endpoint is down.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/common';
import { createApp } from '../api/app';
import { CDS_INFERENCE_PATH, CDS_INFERENCE_SECRET_HEADER } from '../activities/cds';
import { createLogger } from '../platform/logger';
import { freePort } from '../platform/ports';
import { jsonRequest, startTestEngine, testConfig, type TestEngine } from './helpers';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

type Card = {
  uuid: string;
  summary: string;
  indicator: string;
  detail?: string;
  extension?: Record<string, { id: string; modelId: string }>;
};

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
const obs = (loinc: string, value: number, unit: string) => ({
  resource: {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: loinc }] },
    valueQuantity: { value, unit },
    effectiveDateTime: daysAgo(2),
  },
});
const bundle = <T>(entry: T[]) => ({ resourceType: 'Bundle', type: 'searchset', entry });
const birthDate = (() => {
  const d = new Date(Date.now() - 40 * 86_400_000);
  d.setUTCFullYear(d.getUTCFullYear() - 58);
  return d.toISOString().slice(0, 10);
})();
const patient = { resourceType: 'Patient', id: 'ehr-fast-1', gender: 'female', birthDate };
const labs = (tg = 2.1) =>
  bundle([
    obs('2093-3', 5.9, 'mmol/L'),
    obs('13457-7', 3.6, 'mmol/L'),
    obs('2085-9', 1.2, 'mmol/L'),
    obs('2571-8', tg, 'mmol/L'),
    obs('2345-7', 6.1, 'mmol/L'),
  ]);
const vitals = () => bundle([obs('39156-5', 31, 'kg/m2'), obs('8480-6', 142, 'mm[Hg]'), obs('8462-4', 88, 'mm[Hg]')]);
const patientView = (hookInstance: string, tg?: number) => ({
  hook: 'patient-view',
  hookInstance,
  context: { userId: 'Practitioner/dr-2', patientId: 'ehr-fast-1' },
  prefetch: { patient, labs: labs(tg), vitals: vitals() },
});

async function call(app: TestEngine['app'], body: unknown) {
  const res = await app.request('/cds-services/diabetes-progression', jsonRequest('POST', await engine.token('doctor'), body));
  return { status: res.status, body: (await res.json()) as { cards: Card[]; error?: { code: string; details?: unknown } } };
}

const rowsFor = (hookInstance: string) =>
  engine.db.selectFrom('cds_assessments').selectAll().where('request_key', 'like', `cds-${hookInstance}-%`).execute();
const workflowExists = (id: string) =>
  engine.client.workflow
    .getHandle(id)
    .describe()
    .then(
      () => true,
      (e: unknown) => {
        if (e instanceof WorkflowNotFoundError) return false;
        throw e;
      },
    );

/** The same API, pointed at a scoring endpoint that nothing serves: hook calls must fall back to the workflow. */
async function appWithEndpointDown() {
  const config = testConfig({
    CLINICAL_TASK_QUEUE: engine.config.CLINICAL_TASK_QUEUE,
    CDS_INFERENCE_URL: `http://127.0.0.1:${await freePort()}`,
  });
  return createApp({ config, db: engine.db, temporal: engine.client, logger: createLogger('test', 'silent') });
}

describe('a CDS hook call on the fast path', () => {
  test('stores exactly one assessment without a workflow, and the repeated call answers from the same row', async () => {
    const hookInstance = randomUUID();
    const request = patientView(hookInstance); // the EHR's retry: the very same body
    const first = await call(engine.app, request);
    expect(first.status).toBe(200);
    const trace = first.body.cards[0]!.extension!['clinical-engine-assessment']!;
    expect(trace.modelId).toBe('diabetes-progression');
    const rows = await rowsFor(hookInstance);
    expect(rows.map((r) => r.id)).toEqual([trace.id]);
    expect(rows[0]).toMatchObject({
      service_id: 'diabetes-progression',
      patient_ref: 'ehr-fast-1',
      model_id: 'diabetes-progression',
      model_version: '1.0.0',
    });
    expect(rows[0]!.request_key).toMatch(new RegExp(`^cds-${hookInstance}-diabetes-progression-[0-9a-f]{16}$`));
    expect(await workflowExists(rows[0]!.request_key)).toBe(false);

    const again = await call(engine.app, request);
    expect(again.status).toBe(200);
    expect(again.body.cards).toEqual(first.body.cards);
    expect((await rowsFor(hookInstance)).map((r) => r.id)).toEqual([trace.id]);
  });

  test('falls back to the workflow when the scoring endpoint is down, answering the same card and storing the same row', async () => {
    const [fastHook, slowHook] = [randomUUID(), randomUUID()];
    const fast = await call(engine.app, patientView(fastHook));
    const slow = await call(await appWithEndpointDown(), patientView(slowHook));
    expect([fast.status, slow.status]).toEqual([200, 200]);
    // Each card names its own stored assessment (id and time); everything else is the same.
    const strip = (cards: Card[]) =>
      cards.map(({ uuid: _uuid, extension: _extension, ...card }) => ({
        ...card,
        detail: card.detail?.replace(/Assessment `[^`]+` stored \S+/, 'Assessment'),
      }));
    expect(strip(slow.body.cards)).toEqual(strip(fast.body.cards));

    const [fastRow] = await rowsFor(fastHook);
    const slowRows = await rowsFor(slowHook);
    expect(slowRows).toHaveLength(1);
    expect(slowRows[0]!.id).toBe(slow.body.cards[0]!.extension!['clinical-engine-assessment']!.id);
    expect(await workflowExists(slowRows[0]!.request_key)).toBe(true);
    expect(await workflowExists(fastRow!.request_key)).toBe(false);
    const stored = (r: typeof fastRow) => ({
      score: r!.score,
      band: r!.band,
      output: r!.output,
      features: (r!.inputs as { features: unknown }).features,
      model: [r!.model_id, r!.model_version],
    });
    expect(stored(slowRows[0])).toEqual(stored(fastRow));
  });

  test('refuses a zero triglyceride with 422 invalid_features naming ltg, stores nothing, on either path', async () => {
    for (const app of [engine.app, await appWithEndpointDown()]) {
      const hookInstance = randomUUID();
      const { status, body } = await call(app, patientView(hookInstance, 0));
      expect(status).toBe(422);
      expect(body.error).toMatchObject({ code: 'invalid_features', details: { problem: 'non-finite', features: ['ltg'] } });
      expect(await rowsFor(hookInstance)).toEqual([]);
    }
  });
});

describe('the scoring endpoint', () => {
  const url = () => `http://127.0.0.1:${engine.config.CDS_INFERENCE_PORT}${CDS_INFERENCE_PATH}`;
  const features = { age: 50, sex: 1.5, bmi: 27, bp: 95, tc: 190, ldl: 110, hdl: 50, tch: 3.8, ltg: 4.8, glu: 100 };

  test('answers a score only with the shared secret', async () => {
    const body = JSON.stringify({ modelId: 'diabetes-progression', features });
    const none = await fetch(url(), { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(none.status).toBe(401);
    const wrong = await fetch(url(), { method: 'POST', body, headers: { [CDS_INFERENCE_SECRET_HEADER]: 'x'.repeat(43) } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(url(), { method: 'POST', body, headers: { [CDS_INFERENCE_SECRET_HEADER]: engine.config.CDS_INFERENCE_SECRET } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      modelId: 'diabetes-progression',
      modelVersion: '1.0.0',
      score: expect.any(Number),
      band: expect.any(String),
    });
  });

  test('refuses an unknown model (404) and a feature it does not know (422), as the activity does', async () => {
    const headers = { [CDS_INFERENCE_SECRET_HEADER]: engine.config.CDS_INFERENCE_SECRET };
    const unknownModel = await fetch(url(), { method: 'POST', headers, body: JSON.stringify({ modelId: 'no-such-model', features }) });
    expect(unknownModel.status).toBe(404);
    expect(await unknownModel.json()).toMatchObject({ type: 'ModelNotFound' });
    const extra = await fetch(url(), {
      method: 'POST',
      headers,
      body: JSON.stringify({ modelId: 'diabetes-progression', features: { ...features, shoe: 42 } }),
    });
    expect(extra.status).toBe(422);
    expect(await extra.json()).toMatchObject({ type: 'InvalidFeatures', details: { problem: 'unknown', features: ['shoe'] } });
  });
});
