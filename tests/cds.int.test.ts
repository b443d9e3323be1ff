import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { cdsAssessmentWorkflow } from '../workflows/cds';
import { jsonRequest, startTestEngine, type TestEngine } from './helpers';

const MODELS_DIR = path.join(__dirname, '../models');
const meta = JSON.parse(readFileSync(path.join(MODELS_DIR, 'diabetes-progression.json'), 'utf8'));
const golden = JSON.parse(readFileSync(path.join(MODELS_DIR, 'golden/diabetes-progression.json'), 'utf8')) as {
  cases: Array<{ features: number[]; score: number }>;
};
const names: string[] = meta.features.map((f: { name: string }) => f.name);

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
  source: { label: string; topic?: { code: string } };
  suggestions?: Array<{ actions: unknown[] }>;
  extension?: Record<string, { id: string; modelId: string; modelVersion: string }>;
};

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
function obs(loinc: string, value: number, unit: string, effectiveDateTime = daysAgo(2)) {
  return {
    resource: {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: loinc }] },
      valueQuantity: { value, unit },
      effectiveDateTime,
    },
  };
}
const bundle = <T>(entry: T[]) => ({ resourceType: 'Bundle', type: 'searchset', entry });
/** A man aged 60 (born 60 years and 40 days ago). */
const birthDate = (() => {
  const d = new Date(Date.now() - 40 * 86_400_000);
  d.setUTCFullYear(d.getUTCFullYear() - 60);
  return d.toISOString().slice(0, 10);
})();
const patient = { resourceType: 'Patient', id: 'ehr-patient-1', gender: 'male', birthDate };

/** Obese, hypertensive, dyslipidaemic, glucose above range, creatinine 132.6 µmol/L, potassium critically high. */
const labs = () =>
  bundle([
    obs('2093-3', 5.5, 'mmol/L'),
    obs('13457-7', 3.14, 'mmol/L'),
    obs('2085-9', 1.0, 'mmol/L'),
    obs('2571-8', 3.0, 'mmol/L'),
    obs('2345-7', 6.5, 'mmol/L'),
    obs('2160-0', 132.6, 'umol/L'),
    obs('2823-3', 6.5, 'mmol/L'),
    obs('2345-7', 5.0, 'mmol/L', daysAgo(200)),
  ]);
const vitals = () => bundle([obs('39156-5', 35, 'kg/m2'), obs('8480-6', 150, 'mm[Hg]'), obs('8462-4', 95, 'mm[Hg]')]);

/** The expected score computed from the metadata in float64, independently of ONNX and the mapping code. */
function expectedScore(): number {
  const tc = 5.5 * 38.67,
    hdl = 1.0 * 38.67;
  const x: Record<string, number> = {
    age: 60,
    sex: meta.features[1].mean,
    bmi: 35,
    bp: (150 + 2 * 95) / 3,
    tc,
    ldl: 3.14 * 38.67,
    hdl,
    tch: tc / hdl,
    ltg: Math.log(3.0 * 88.57),
    glu: 6.5 * 18,
  };
  return meta.features.reduce(
    (s: number, f: { name: string; mean: number }, i: number) => s + meta.explanation.coefficients[i] * (x[f.name]! - f.mean),
    meta.explanation.baseline,
  );
}

function patientView(hookInstance = randomUUID(), prefetch: Record<string, unknown> = { patient, labs: labs(), vitals: vitals() }) {
  return { hook: 'patient-view', hookInstance, context: { userId: 'Practitioner/dr-1', patientId: 'ehr-patient-1' }, prefetch };
}

async function call(serviceId: string, body: unknown, role: 'doctor' | 'admin' | 'patient' = 'doctor') {
  const res = await engine.app.request(`/cds-services/${serviceId}`, jsonRequest('POST', await engine.token(role), body));
  return { status: res.status, body: (await res.json()) as { cards: Card[]; error?: { code: string; message: string; details?: any } } };
}

describe('the inference worker through Temporal', () => {
  test('scores every golden case through the cds worker within 1e-5 of the Python predictions, and stores each once', async () => {
    const results = await Promise.all(
      golden.cases.map((c) =>
        engine.client.workflow.execute(cdsAssessmentWorkflow, {
          workflowId: `cds-${randomUUID()}-parity`,
          taskQueue: engine.config.CLINICAL_TASK_QUEUE,
          args: [
            {
              serviceId: 'parity-test',
              patientRef: 'synthetic',
              modelId: 'diabetes-progression',
              features: Object.fromEntries(names.map((n, i) => [n, c.features[i]!])),
              provenance: null,
            },
          ],
          workflowExecutionTimeout: '20s',
        }),
      ),
    );
    results.forEach((r, i) => expect(Math.abs(r.score - golden.cases[i]!.score)).toBeLessThanOrEqual(1e-5));
    const rows = await engine.db
      .selectFrom('cds_assessments')
      .selectAll()
      .where(
        'id',
        'in',
        results.map((r) => r.id),
      )
      .execute();
    expect(rows).toHaveLength(golden.cases.length);
    for (const row of rows) {
      const r = results.find((x) => x.id === row.id)!;
      expect(row).toMatchObject({
        model_id: 'diabetes-progression',
        model_version: '1.0.0',
        score: r.score,
        band: r.band,
        service_id: 'parity-test',
      });
      expect((row.output as { score: number }).score).toBe(r.score);
      const c = golden.cases[results.indexOf(r)]!;
      expect((row.inputs as { features: object }).features).toEqual(Object.fromEntries(names.map((n, i) => [n, c.features[i]])));
    }
  });

  test('a NaN feature fails the assessment at once with a non-retryable InvalidFeatures naming the feature, and stores nothing', async () => {
    const workflowId = `cds-${randomUUID()}-parity`;
    const features = { ...Object.fromEntries(names.map((n, i) => [n, golden.cases[0]!.features[i]!])), glu: Number.NaN };
    const err = await engine.client.workflow
      .execute(cdsAssessmentWorkflow, {
        workflowId,
        taskQueue: engine.config.CLINICAL_TASK_QUEUE,
        workflowExecutionTimeout: '20s',
        args: [{ serviceId: 'parity-test', patientRef: 'synthetic', modelId: 'diabetes-progression', features, provenance: null }],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = (err as WorkflowFailedError).cause?.cause;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: 'InvalidFeatures',
      nonRetryable: true,
      message: 'Feature(s) not a finite number for diabetes-progression: glu.',
    });
    const history = await engine.client.workflow.getHandle(workflowId).fetchHistory();
    const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes);
    expect(started).toHaveLength(1);
    expect(started[0]!.activityTaskStartedEventAttributes!.attempt).toBe(1);
    expect(await engine.db.selectFrom('cds_assessments').select('id').where('request_key', '=', workflowId).execute()).toEqual([]);
  });
});

describe('the CDS Hooks service', () => {
  test('discovery lists a patient-view and an order-sign service with prefetch templates for their labs', async () => {
    const res = await engine.app.request('/cds-services', jsonRequest('GET', await engine.token('doctor')));
    expect(res.status).toBe(200);
    const { services } = (await res.json()) as {
      services: Array<{ hook: string; id: string; title: string; description: string; prefetch: Record<string, string> }>;
    };
    expect(services.map((s) => [s.hook, s.id])).toEqual([
      ['patient-view', 'diabetes-progression'],
      ['order-sign', 'lab-order-review'],
    ]);
    const [pv] = services;
    expect(pv!.prefetch.patient).toBe('Patient/{{context.patientId}}');
    expect(pv!.prefetch.labs).toMatch(/^Observation\?patient=\{\{context\.patientId\}\}&code=http:\/\/loinc\.org\|2093-3,/);
    for (const loinc of ['2093-3', '13457-7', '2085-9', '2571-8', '2345-7', '2160-0'])
      expect(pv!.prefetch.labs).toContain(`http://loinc.org|${loinc}`);
    for (const loinc of ['39156-5', '8478-0', '8480-6', '8462-4']) expect(pv!.prefetch.vitals).toContain(`http://loinc.org|${loinc}`);
    for (const s of services) expect(s.title.length && s.description.length).toBeTruthy();
  });

  test('patient-view with full prefetch returns a high-band model card traced to its stored assessment, an eGFR card and critical flags', async () => {
    const hookInstance = randomUUID();
    const { status, body } = await call('diabetes-progression', patientView(hookInstance));
    expect(status).toBe(200);
    const [model, egfr, ...flags] = body.cards;

    expect(model!.summary).toBe(`Diabetes progression: high band (predicted 1-year score ${Math.round(expectedScore())})`);
    expect(model!.indicator).toBe('warning');
    expect(model!.source).toMatchObject({ label: 'Clinical process engine CDS', topic: { code: 'diabetes-progression' } });
    expect(model!.detail).toContain('`diabetes-progression@1.0.0`');
    expect(model!.detail).toContain('decision support only');
    expect(model!.detail).toContain('442');
    expect(model!.detail).toContain('sex coding is undocumented');
    expect(model!.detail).toContain('(systolic + 2 × diastolic) / 3');
    const trace = model!.extension!['clinical-engine-assessment']!;
    expect(trace).toMatchObject({ modelId: 'diabetes-progression', modelVersion: '1.0.0' });

    const row = await engine.db.selectFrom('cds_assessments').selectAll().where('id', '=', trace.id).executeTakeFirstOrThrow();
    expect(row.request_key).toMatch(new RegExp(`^cds-${hookInstance}-diabetes-progression-[0-9a-f]{16}$`));
    expect(row).toMatchObject({
      service_id: 'diabetes-progression',
      patient_ref: 'ehr-patient-1',
      model_id: 'diabetes-progression',
      model_version: '1.0.0',
      band: 'high',
    });
    expect(Math.abs(row.score! - expectedScore())).toBeLessThan(1e-3);
    const inputs = row.inputs as { features: Record<string, number> };
    expect(inputs.features.ltg).toBeCloseTo(Math.log(3.0 * 88.57), 9);
    const output = row.output as { score: number; baseline: number; contributions: Array<{ contribution: number }> };
    expect(output.score).toBe(row.score);
    expect(Math.abs(output.baseline + output.contributions.reduce((s, c) => s + c.contribution, 0) - row.score!)).toBeLessThan(1e-4);

    // 132.6 µmol/L = 1.5 mg/dL, man 60 → 52.97 → 53, G3a.
    expect(egfr).toMatchObject({ summary: 'eGFR 53 mL/min/1.73m² (KDIGO G3a, mildly to moderately decreased)', indicator: 'warning' });
    expect(flags[0]).toMatchObject({ summary: 'Potassium 6.5 mmol/L is critically high (HH)', indicator: 'critical' });
    expect(flags.map((f) => f.summary)).toContain('Glucose, fasting 6.5 mmol/L is above the reference range (H)');

    // The rule cards trace back too: one stored assessment of the rules layer, with what it read.
    const ruleTrace = egfr!.extension!['clinical-engine-assessment']!;
    expect(ruleTrace).toMatchObject({ modelId: 'cds-rules', modelVersion: '1.0.0' });
    for (const f of flags) expect(f.extension!['clinical-engine-assessment']!.id).toBe(ruleTrace.id);
    const ruleRow = await engine.db.selectFrom('cds_assessments').selectAll().where('id', '=', ruleTrace.id).executeTakeFirstOrThrow();
    expect(ruleRow).toMatchObject({
      service_id: 'diabetes-progression',
      patient_ref: 'ehr-patient-1',
      model_id: 'cds-rules',
      model_version: '1.0.0',
      score: null,
      band: null,
    });
    expect(ruleRow.request_key).toMatch(new RegExp(`^rules:${hookInstance}:diabetes-progression:[0-9a-f]{16}$`));
    expect((ruleRow.inputs as { labs: unknown[] }).labs).toContainEqual(expect.objectContaining({ loinc: '2160-0', value: 132.6 }));
    expect((ruleRow.output as { cards: Card[] }).cards.map((c) => c.summary)).toEqual([egfr!.summary, ...flags.map((f) => f.summary)]);
    for (const c of body.cards) {
      expect(c.summary.length).toBeLessThan(140);
      expect(c.uuid).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  test('calling twice with the same hookInstance stores one assessment and returns the same cards', async () => {
    const hookInstance = randomUUID();
    const request = patientView(hookInstance); // the EHR's retry: the very same body
    const first = await call('diabetes-progression', request);
    const second = await call('diabetes-progression', request);
    expect(second.status).toBe(200);
    expect(second.body.cards[0]!.extension!['clinical-engine-assessment']!.id).toBe(
      first.body.cards[0]!.extension!['clinical-engine-assessment']!.id,
    );
    expect(second.body.cards[1]!.extension!['clinical-engine-assessment']!.id).toBe(
      first.body.cards[1]!.extension!['clinical-engine-assessment']!.id,
    );
    expect(
      await engine.db.selectFrom('cds_assessments').select('id').where('request_key', 'like', `rules:${hookInstance}:%`).execute(),
    ).toHaveLength(1);
    expect(second.body.cards.map((c) => c.uuid)).toEqual(first.body.cards.map((c) => c.uuid));
    const rows = await engine.db
      .selectFrom('cds_assessments')
      .select('id')
      .where('request_key', 'like', `cds-${hookInstance}-diabetes-progression-%`)
      .execute();
    expect(rows).toHaveLength(1);
  });

  test("a hookInstance reused for another patient gets that patient's own assessment, never the first one's", async () => {
    const hookInstance = randomUUID();
    const first = await call('diabetes-progression', patientView(hookInstance));
    const other = { ...patientView(hookInstance), context: { userId: 'Practitioner/dr-1', patientId: 'ehr-patient-2' } };
    const tgHigher = bundle([...labs().entry.filter((e) => e.resource.code.coding[0]!.code !== '2571-8'), obs('2571-8', 5.0, 'mmol/L')]);
    other.prefetch = { patient: { ...patient, id: 'ehr-patient-2' }, labs: tgHigher, vitals: vitals() };
    const second = await call('diabetes-progression', other);
    expect(second.status).toBe(200);
    const [a, b] = [
      first.body.cards[0]!.extension!['clinical-engine-assessment']!,
      second.body.cards[0]!.extension!['clinical-engine-assessment']!,
    ];
    expect(b.id).not.toBe(a.id);
    const rows = await engine.db
      .selectFrom('cds_assessments')
      .select(['id', 'patient_ref'])
      .where('request_key', 'like', `cds-${hookInstance}-%`)
      .orderBy('patient_ref')
      .execute();
    expect(rows).toEqual([
      { id: a.id, patient_ref: 'ehr-patient-1' },
      { id: b.id, patient_ref: 'ehr-patient-2' },
    ]);
  });

  test('a prefetch of another patient than the context is refused (400 wrong_patient) and nothing is scored or stored', async () => {
    const hookInstance = randomUUID();
    const forOther = { ...patientView(hookInstance), context: { userId: 'Practitioner/dr-1', patientId: 'ehr-patient-2' } };
    const refused = await call('diabetes-progression', forOther);
    expect(refused.status).toBe(400);
    expect(refused.body.error!.code).toBe('wrong_patient');
    // Observations whose subject names another patient are refused too, even with the right Patient.
    const subjectOf = (ref: string) => bundle(labs().entry.map((e) => ({ resource: { ...e.resource, subject: { reference: ref } } })));
    const otherLabs = patientView(hookInstance, { patient, labs: subjectOf('Patient/ehr-patient-2'), vitals: vitals() });
    expect((await call('diabetes-progression', otherLabs)).status).toBe(400);
    expect(await engine.db.selectFrom('cds_assessments').select('id').where('request_key', 'like', `%${hookInstance}%`).execute()).toEqual(
      [],
    );
    // The same observations naming the context patient (absolute or not) are scored.
    const own = await call(
      'diabetes-progression',
      patientView(hookInstance, { patient, labs: subjectOf('https://ehr.example/fhir/Patient/ehr-patient-1'), vitals: vitals() }),
    );
    expect(own.status).toBe(200);
  });

  test('a prefetch item sent as null means "no data": cards without the model score, not a 412', async () => {
    const { status, body } = await call('diabetes-progression', patientView(randomUUID(), { patient, labs: labs(), vitals: null }));
    expect(status).toBe(200);
    expect(body.cards[0]).toMatchObject({ summary: 'Diabetes progression score not calculated: inputs are missing', indicator: 'info' });
  });

  test('a zero triglyceride is refused by the worker and answered 422 invalid_features naming ltg, never a 500', async () => {
    const tgZero = bundle([...labs().entry.filter((e) => e.resource.code.coding[0]!.code !== '2571-8'), obs('2571-8', 0, 'mmol/L')]);
    const { status, body } = await call('diabetes-progression', patientView(randomUUID(), { patient, labs: tgZero, vitals: vitals() }));
    expect(status).toBe(422);
    expect(body.error).toMatchObject({ code: 'invalid_features', details: { problem: 'non-finite', features: ['ltg'] } });
  });

  test('a patient without lipid results gets an info card saying what is missing, and no assessment is stored', async () => {
    const noLipids = bundle(
      labs().entry.filter((e) => !['2093-3', '13457-7', '2085-9', '2571-8'].includes(e.resource.code.coding[0]!.code)),
    );
    const hookInstance = randomUUID();
    const { status, body } = await call('diabetes-progression', patientView(hookInstance, { patient, labs: noLipids, vitals: vitals() }));
    expect(status).toBe(200);
    expect(body.cards[0]).toMatchObject({ summary: 'Diabetes progression score not calculated: inputs are missing', indicator: 'info' });
    expect(body.cards[0]!.detail).toContain('tc (no result for LOINC 2093-3)');
    expect(
      await engine.db.selectFrom('cds_assessments').select('id').where('request_key', 'like', `cds-${hookInstance}-%`).execute(),
    ).toEqual([]);
  });

  test('order-sign warns that a glucose resulted 2 days ago is a likely duplicate and shows the last eGFR for a creatinine order', async () => {
    const draftOrders = bundle([
      {
        resource: {
          resourceType: 'ServiceRequest',
          id: 'draft-glu',
          status: 'draft',
          intent: 'order',
          code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
        },
      },
      {
        resource: {
          resourceType: 'ServiceRequest',
          id: 'draft-crea',
          status: 'draft',
          intent: 'order',
          code: { coding: [{ system: 'http://loinc.org', code: '2160-0' }] },
        },
      },
    ]);
    const { status, body } = await call('lab-order-review', {
      hook: 'order-sign',
      hookInstance: randomUUID(),
      context: { userId: 'Practitioner/dr-1', patientId: 'ehr-patient-1', draftOrders },
      prefetch: { patient, labs: labs() },
    });
    expect(status).toBe(200);
    expect(body.cards.map((c) => [c.indicator, c.summary])).toEqual([
      ['warning', 'Possible duplicate: Glucose, fasting was resulted 2 days ago'],
      ['warning', 'Possible duplicate: Creatinine was resulted 2 days ago'],
      ['warning', 'eGFR 53 mL/min/1.73m² (KDIGO G3a, mildly to moderately decreased)'],
    ]);
    expect(new Set(body.cards.map((c) => c.extension!['clinical-engine-assessment']!.modelId))).toEqual(new Set(['cds-rules']));
    expect(body.cards[0]!.suggestions![0]!.actions).toEqual([
      { type: 'delete', description: 'Remove the draft Glucose, fasting order', resourceId: 'ServiceRequest/draft-glu' },
    ]);
  });

  test('a missing prefetch item is 412 prefetch_missing, naming it and saying we do not query a FHIR server', async () => {
    const { status, body } = await call('diabetes-progression', patientView(randomUUID(), { patient, labs: labs() }));
    expect(status).toBe(412);
    expect(body.error).toMatchObject({ code: 'prefetch_missing', details: { missing: ['vitals'] } });
    expect(body.error!.message).toContain('does not query a FHIR server');
  });

  test('refuses a bad token (401), a patient (403), a malformed hookInstance (400) and an unknown service (404)', async () => {
    const bad = await engine.app.request('/cds-services/diabetes-progression', jsonRequest('POST', 'not-a-jwt', patientView()));
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as any).error.code).toBe('unauthenticated');
    expect((await engine.app.request('/cds-services', jsonRequest('GET', undefined))).status).toBe(401);
    const patientRole = await call('diabetes-progression', patientView(), 'patient');
    expect(patientRole.status).toBe(403);
    expect(patientRole.body.error!.code).toBe('forbidden');
    const malformed = await call('diabetes-progression', { ...patientView(), hookInstance: 'not-a-uuid' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error!.code).toBe('validation_failed');
    const wrongHook = await call('lab-order-review', patientView());
    expect(wrongHook.status).toBe(400);
    const unknown = await call('no-such-service', patientView(), 'admin');
    expect(unknown.status).toBe(404);
  });
});
