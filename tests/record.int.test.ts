import { eventually, startTestEngine, type TestEngine } from './helpers';
import { call, makeRecordWorld, type Json, type RecordWorld } from './record-fixtures';

let engine: TestEngine;
let world: RecordWorld;
let patientToken: string;
beforeAll(async () => {
  engine = await startTestEngine();
  world = await makeRecordWorld(engine);
  patientToken = await engine.token('patient', { id: `patient-${world.patientId}`, patientId: world.patientId });
  // The critical potassium's first notification is written by the order's process.
  await eventually(
    async () =>
      (await engine.db.selectFrom('lab_critical_notifications').select('id').where('lab_order_id', '=', world.labOrderId).execute())
        .length > 0,
    30_000,
    'critical notified',
  );
});
afterAll(async () => {
  await engine.stop();
});

describe("the patient's record across clinics", () => {
  test('holds the appointment, referral, final lab report, critical event and CDS assessment, newest first; paging returns each item exactly once', async () => {
    const all = await call(engine, 'GET', `/patients/${world.patientId}/record?limit=200`, patientToken);
    expect(all.status).toBe(200);
    const items = all.body.items as Json[];
    expect(all.body.nextCursor).toBeNull();
    const ids = items.map((i) => `${i.kind}:${i.id}`);
    expect(ids).toEqual(
      expect.arrayContaining([
        `appointment:${world.appointmentId}`,
        `referral:${world.referralId}`,
        `lab-report:${world.labOrderId}`,
        `cds-assessment:${world.assessmentId}`,
      ]),
    );
    expect(items.some((i) => i.kind === 'critical-event' && i.event === 'notified' && i.labOrderId === world.labOrderId)).toBe(true);
    // Two clinics in one record.
    expect(new Set(items.filter((i) => i.clinicId).map((i) => i.clinicId))).toEqual(new Set([world.a.clinicId, world.b.clinicId]));
    // Newest first.
    const times = items.map((i) => Date.parse(i.at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    // The lab report: final results only, with flags and reference ranges; the referral with its status and deadline.
    const report = items.find((i) => i.kind === 'lab-report')!;
    expect(report.results).toEqual([
      expect.objectContaining({
        loinc: '2823-3',
        value: 6.8,
        flag: 'HH',
        status: 'final',
        refLow: expect.any(Number),
        refHigh: expect.any(Number),
      }),
    ]);
    expect(items.find((i) => i.kind === 'referral')).toMatchObject({
      status: expect.any(String),
      deadlineAt: expect.any(String),
      breached: false,
    });

    // Pages of two, following the cursor: the same items in the same order, none twice, none lost.
    const paged: string[] = [];
    let cursor: string | null = null;
    for (let n = 0; n < 50; n++) {
      const page: { status: number; body: Json } = await call(
        engine,
        'GET',
        `/patients/${world.patientId}/record?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        patientToken,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.body.items.map((i: Json) => `${i.kind}:${i.id}`));
      cursor = page.body.nextCursor;
      if (!cursor) break;
    }
    expect(paged).toEqual(ids);
    expect(new Set(paged).size).toBe(paged.length);

    const bad = await call(engine, 'GET', `/patients/${world.patientId}/record?cursor=not-a-cursor`, patientToken);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_failed']);
  });

  test('as FHIR: a searchset Bundle of typed resources, Observations with interpretation codes', async () => {
    const res = await call(engine, 'GET', `/patients/${world.patientId}/record?format=fhir&limit=200`, patientToken);
    expect(res.status).toBe(200);
    const bundle = res.body;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', link: [{ relation: 'self' }] });
    const resources = (bundle.entry as Json[]).map((e) => e.resource as Json);
    const types = new Set(resources.map((r) => r.resourceType));
    for (const t of ['Appointment', 'ServiceRequest', 'DiagnosticReport', 'Observation', 'RiskAssessment', 'Communication'])
      expect(types).toContain(t);
    for (const r of resources) {
      expect(typeof r.id).toBe('string');
      if (r.resourceType !== 'Communication') expect(r.status).toEqual(expect.any(String));
    }
    expect(resources.find((r) => r.resourceType === 'Appointment' && r.id === world.appointmentId)).toMatchObject({
      status: 'pending',
      participant: expect.arrayContaining([{ actor: { reference: `Patient/${world.patientId}`, type: 'Patient' }, status: 'accepted' }]),
    });
    expect(resources.find((r) => r.resourceType === 'ServiceRequest' && r.id === world.referralId)).toMatchObject({
      status: 'active',
      intent: 'order',
      subject: { reference: `Patient/${world.patientId}` },
      occurrencePeriod: { end: expect.any(String) },
    });
    const obs = resources.find((r) => r.resourceType === 'Observation')!;
    expect(obs).toMatchObject({
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '2823-3' }] },
      valueQuantity: { value: 6.8, unit: 'mmol/L' },
      interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'HH' }] }],
    });
    expect(resources.find((r) => r.resourceType === 'DiagnosticReport')).toMatchObject({
      id: world.labOrderId,
      status: 'final',
      result: [{ reference: `Observation/${obs.id}` }],
    });
    expect(resources.find((r) => r.resourceType === 'RiskAssessment')).toMatchObject({
      id: world.assessmentId,
      status: 'final',
      prediction: [{ probabilityDecimal: 0.42, qualitativeRisk: { text: 'moderate' } }],
    });
  });

  test('every read is in the audit log with the request id, and no patient name', async () => {
    const rows = await engine.db
      .selectFrom('audit_log')
      .selectAll()
      .where('entity', '=', 'PatientRecord')
      .where('entity_id', '=', world.patientId)
      .execute();
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const r of rows) {
      expect(r).toMatchObject({ actor: `patient-${world.patientId}`, action: 'read' });
      expect(r.details).toMatchObject({
        patientId: world.patientId,
        role: 'patient',
        route: 'GET /patients/:id/record',
        requestId: expect.any(String),
      });
      expect(JSON.stringify(r.details)).not.toContain('Lab Patient');
    }
  });
});
