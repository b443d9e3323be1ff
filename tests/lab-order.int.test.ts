import { randomUUID } from 'node:crypto';
import { labOrderStatusQuery } from '../workflows/lab-order';
import { overdueKey, processStatusKey } from '../workflows/search-attributes';
import { eventually, startTestEngine, type TestEngine } from './helpers';
import { LIPIDS_MMOL, labApi, makeLabClinic, makeLabPatient, oru, type LabClinic } from './lab-fixtures';

let engine: TestEngine;
let clinic: LabClinic;
let api: ReturnType<typeof labApi>;
beforeAll(async () => {
  engine = await startTestEngine();
  clinic = await makeLabClinic(engine.db);
  api = labApi(engine, clinic);
});
afterAll(async () => {
  await engine.stop();
});

const versions = (orderId: string) =>
  engine.db.selectFrom('lab_result_versions').selectAll().where('lab_order_id', '=', orderId).orderBy('loinc').orderBy('version').execute();
const events = async (orderId: string) =>
  (await engine.db.selectFrom('lab_order_events').select('kind').where('lab_order_id', '=', orderId).orderBy('at').execute()).map(
    (e) => e.kind,
  );
const handle = (orderId: string) => engine.client.workflow.getHandle(`lab-order-${orderId}`);
const processStatus = async (orderId: string) => (await handle(orderId).describe()).typedSearchAttributes.get(processStatusKey);

async function finalPotassium(value: number, c = clinic) {
  const a = labApi(engine, c);
  const patientId = await makeLabPatient(engine.db);
  const created = await a.order(patientId, ['2823-3'], 'stat');
  expect(created.status).toBe(201);
  await a.collectAndReceive(created.body.id);
  const posted = await a.post(created.body.id, [{ loinc: '2823-3', value, unit: 'mmol/L' }]);
  expect(posted.status).toBe(200);
  return { orderId: created.body.id as string, patientId, posted: posted.body };
}

describe('a lab order from order to close', () => {
  test('a lipid panel with glucose goes final and the doctor, already waiting, gets the model card as soon as it is stored', async () => {
    const patientId = await makeLabPatient(engine.db);
    expect((await api.vitals(patientId)).status).toBe(201);
    const created = await api.order(patientId, ['24331-1', '2345-7'], 'urgent');
    expect(created.status).toBe(201);
    const orderId = created.body.id as string;
    expect(created.body).toMatchObject({
      status: 'ordered',
      priority: 'urgent',
      tests: ['13457-7', '2085-9', '2093-3', '2571-8', '2345-7'],
      note: 'fasting since 8 pm',
      fhir: { serviceRequest: { status: 'active', intent: 'order', priority: 'urgent' } },
    });
    expect(Date.parse(created.body.deadlineAt) - Date.parse(created.body.createdAt)).toBe(4 * 3600 * 1000);

    const received = await api.collectAndReceive(orderId);
    expect(received).toMatchObject({ status: 'received', barcode: `BC-${orderId.slice(0, 8)}`, fhir: { specimenStatus: 'available' } });
    expect(received.collectedAt).not.toBeNull();

    // The doctor is already waiting when the results come in.
    const waiting = api.doctorToken().then((t) => api.call('GET', `/lab-orders/${orderId}/cds?wait=40s`, t));
    const posted = await api.post(orderId, [...LIPIDS_MMOL, { loinc: '2345-7', value: 117, unit: 'mg/dL' }]);
    expect(posted.status).toBe(200);
    expect(posted.body).toMatchObject({ status: 'final', recorded: 5, duplicates: 0 });
    expect(posted.body.order.fhir.diagnosticReportStatus).toBe('final');
    const glucose = posted.body.order.results.find((r: { loinc: string }) => r.loinc === '2345-7');
    expect(glucose).toMatchObject({
      value: 6.4935,
      unit: 'mmol/L',
      reportedValue: 117,
      reportedUnit: 'mg/dL',
      interpretation: 'H',
      referenceRange: { low: 3.9, high: 6.1 },
    });

    const cds = await waiting;
    expect(cds.status).toBe(200);
    expect(cds.body.status).toBe('ready');
    const [model, ...rest] = cds.body.cards;
    expect(model.summary).toMatch(/^Diabetes progression: \w+ band \(predicted 1-year score \d+\)$/);
    const assessment = await engine.db
      .selectFrom('cds_assessments')
      .selectAll()
      .where('lab_order_id', '=', orderId)
      .executeTakeFirstOrThrow();
    expect(model.extension['clinical-engine-assessment'].id).toBe(assessment.id);
    expect(assessment).toMatchObject({ model_id: 'diabetes-progression', patient_ref: patientId });
    expect((assessment.inputs as { features: Record<string, number> }).features).toMatchObject({
      bmi: 32,
      tc: 5.5 * 38.67,
      glu: 6.4935 * 18,
    });
    expect(rest.map((c: { summary: string }) => c.summary)).toEqual(
      expect.arrayContaining([expect.stringContaining('Glucose'), expect.stringContaining('Triglycerides')]),
    );

    const ack = await api.call('POST', `/lab-orders/${orderId}/acknowledge`, await api.doctorToken(), { readBack: [] });
    expect(ack.status).toBe(200);
    expect(ack.body.status).toBe('acknowledged');
    expect(ack.body.ackSeconds).toBeGreaterThanOrEqual(0);
    await eventually(
      async () =>
        (await engine.db.selectFrom('lab_orders').select('status').where('id', '=', orderId).executeTakeFirst())?.status === 'closed',
      30_000,
      'closed',
    );
    expect(await events(orderId)).toEqual([
      'ordered',
      'collected',
      'received',
      'results-posted',
      'final',
      'cds-assessed',
      'acknowledged',
      'closed',
    ]);
  });

  test('the same result posted twice is recorded once, with or without the same Idempotency-Key', async () => {
    const patientId = await makeLabPatient(engine.db);
    const { body: order } = await api.order(patientId, ['2345-7', '2823-3']);
    await api.collectAndReceive(order.id);
    const first = await api.post(order.id, [{ loinc: '2345-7', value: 5.0, unit: 'mmol/L' }], { 'idempotency-key': 'results-dup-1' });
    const again = await api.post(order.id, [{ loinc: '2345-7', value: 5.0, unit: 'mmol/L' }], { 'idempotency-key': 'results-dup-1' });
    const sameValue = await api.post(order.id, [
      { loinc: '2345-7', value: 5.0, unit: 'mmol/l' },
      { loinc: '2345-7', value: 5.0, unit: 'mmol/L' },
    ]);
    expect(first.body).toMatchObject({ status: 'resulted', recorded: 1 });
    expect(again.body).toMatchObject({ recorded: 1 });
    expect(sameValue.body).toMatchObject({ recorded: 0, duplicates: 2 });
    expect(await versions(order.id)).toHaveLength(1);
  });

  test('results that are not for this order, in a foreign unit, not a number or impossible are refused with their codes and nothing is written', async () => {
    const patientId = await makeLabPatient(engine.db);
    const { body: order } = await api.order(patientId, ['2823-3']);
    await api.collectAndReceive(order.id);
    const cases: Array<[unknown, string]> = [
      [{ loinc: '2345-7', value: 5, unit: 'mmol/L' }, 'unknown_test'],
      [{ loinc: '2823-3', value: 4.1, unit: 'mg/dL' }, 'wrong_unit'],
      [{ loinc: '2823-3', value: 'NaN', unit: 'mmol/L' }, 'not_finite'],
      [{ loinc: '2823-3', value: null, unit: 'mmol/L' }, 'not_finite'],
      [{ loinc: '2823-3', value: 45, unit: 'mmol/L' }, 'impossible_value'],
    ];
    for (const [result, code] of cases) {
      const res = await api.post(order.id, [{ loinc: '2823-3', value: 4.2, unit: 'mmol/L', status: 'preliminary' }, result]);
      expect([res.status, res.body.error.code, res.body.error.details]).toEqual([422, code, expect.objectContaining({ index: 1 })]);
    }
    expect(await versions(order.id)).toEqual([]);
    const history = await handle(order.id).fetchHistory();
    expect(
      history.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'postResults'),
    ).toHaveLength(0);
    expect((await handle(order.id).query(labOrderStatusQuery)).status).toBe('received');
  });

  test('a haemolysed specimen sends the order back to collection, and one rejection past the limit cancels it', async () => {
    const patientId = await makeLabPatient(engine.db);
    const { body: order } = await api.order(patientId, ['2823-3']);
    await api.collectAndReceive(order.id, 'TUBE-0001');
    const rejected = await api.call('POST', `/lab-orders/${order.id}/specimen/reject`, await api.labToken(), { reason: 'haemolysed' });
    expect(rejected.body).toMatchObject({
      status: 'ordered',
      rejectionCount: 1,
      lastRejectionReason: 'haemolysed',
      barcode: null,
      fhir: { specimenStatus: 'unsatisfactory' },
    });
    expect(await processStatus(order.id)).toBe('recollection-needed');
    const again = await api.collectAndReceive(order.id, 'TUBE-0002');
    expect(again).toMatchObject({ status: 'received', barcode: 'TUBE-0002' });
    const second = await api.call('POST', `/lab-orders/${order.id}/specimen/reject`, await api.labToken(), { reason: 'clotted' });
    expect(second.body).toMatchObject({ status: 'cancelled', rejectionCount: 2, lastRejectionReason: 'clotted' });
    const rows = await engine.db
      .selectFrom('lab_specimen_rejections')
      .select(['attempt', 'reason', 'barcode'])
      .where('lab_order_id', '=', order.id)
      .orderBy('attempt')
      .execute();
    expect(rows).toEqual([
      { attempt: 1, reason: 'haemolysed', barcode: 'TUBE-0001' },
      { attempt: 2, reason: 'clotted', barcode: 'TUBE-0002' },
    ]);
  });

  test('a doctor cancels before collection but not after; a stat order past its hour is flagged overdue', async () => {
    const fast = await makeLabClinic(engine.db, { statSeconds: 1 });
    const a = labApi(engine, fast);
    const patientId = await makeLabPatient(engine.db);
    const { body: stat } = await a.order(patientId, ['2823-3'], 'stat');
    await eventually(
      async () => (await engine.db.selectFrom('lab_orders').select('overdue').where('id', '=', stat.id).executeTakeFirst())?.overdue,
      30_000,
      'overdue',
    );
    // The process sets the search attribute in the step after the row's flag: wait for it too.
    await eventually(
      async () => (await handle(stat.id).describe()).typedSearchAttributes.get(overdueKey) === 'true',
      30_000,
      'Overdue search attribute',
    );
    const cancelled = await a.call('POST', `/lab-orders/${stat.id}/cancel`, await a.doctorToken(), { reason: 'patient left' });
    expect(cancelled.body).toMatchObject({
      status: 'cancelled',
      cancelReason: 'patient left',
      fhir: { serviceRequest: { status: 'revoked' } },
    });
    await handle(stat.id).result();

    const { body: other } = await a.order(patientId, ['2823-3']);
    await a.collectAndReceive(other.id);
    const late = await a.call('POST', `/lab-orders/${other.id}/cancel`, await a.doctorToken(), { reason: 'too late' });
    expect([late.status, late.body.error.code]).toEqual([409, 'invalid_state']);
    const stranger = await a.call('POST', `/lab-orders/${other.id}/cancel`, await a.doctorToken(fast.otherDoctorId), {
      reason: 'not mine',
    });
    expect(stranger.status).toBe(403);
  });
});

describe('critical values', () => {
  test('a critical potassium is notified at once, a wrong read-back is refused, the right one acknowledges it and the ops list empties', async () => {
    const { orderId } = await finalPotassium(6.8);
    expect(await processStatus(orderId)).toBe('critical-unacknowledged');
    await eventually(
      async () =>
        (await engine.db.selectFrom('lab_notifications').select('kind').where('lab_order_id', '=', orderId).execute()).some(
          (n) => n.kind === 'critical-result',
        ),
      30_000,
      'notified',
    );
    const ops = await api.call('GET', '/ops/critical-results', await engine.token('ops'));
    expect(ops.body.results.find((r: { orderId: string }) => r.orderId === orderId)).toMatchObject({
      escalations: [{ step: 'ordering', practitionerId: clinic.doctorId }],
    });
    const inbox = await api.call('GET', '/doctors/me/lab-inbox', await api.doctorToken());
    expect(inbox.body.orders[0]).toMatchObject({ critical: true });

    const wrong = await api.call('POST', `/lab-orders/${orderId}/acknowledge`, await api.doctorToken(), {
      readBack: [{ loinc: '2823-3', value: 6.3, unit: 'mmol/L' }],
    });
    expect([wrong.status, wrong.body.error.code]).toEqual([422, 'read_back_mismatch']);
    const noUnit = await api.call('POST', `/lab-orders/${orderId}/acknowledge`, await api.doctorToken(), {
      readBack: [{ loinc: '2823-3', value: 6.8, unit: 'mg/dL' }],
    });
    expect(noUnit.status).toBe(422);
    const right = await api.call('POST', `/lab-orders/${orderId}/acknowledge`, await api.doctorToken(), {
      readBack: [{ loinc: '2823-3', value: 6.8, unit: 'mmol/L' }],
    });
    expect(right.body).toMatchObject({ status: 'acknowledged', criticalPending: false });
    const ackRow = await engine.db
      .selectFrom('lab_acknowledgements')
      .selectAll()
      .where('lab_order_id', '=', orderId)
      .executeTakeFirstOrThrow();
    expect(ackRow).toMatchObject({
      practitioner_id: clinic.doctorId,
      critical: true,
      read_back: [{ loinc: '2823-3', value: 6.8, unit: 'mmol/L' }],
    });
    expect(ackRow.seconds_from_final).toBeGreaterThanOrEqual(0);
    const after = await api.call('GET', '/ops/critical-results', await engine.token('ops'));
    expect(after.body.results.some((r: { orderId: string }) => r.orderId === orderId)).toBe(false);
    expect(await engine.db.selectFrom('lab_critical_notifications').select('step').where('lab_order_id', '=', orderId).execute()).toEqual([
      { step: 'ordering' },
    ]);
  });

  test('an unacknowledged critical potassium escalates to the covering doctor, then the head of department, each with its time, and the covering doctor may acknowledge', async () => {
    const escalating = await makeLabClinic(engine.db, { escalateCoveringSeconds: 1, escalateHeadSeconds: 2 });
    const { orderId } = await finalPotassium(2.4, escalating);
    const steps = await eventually(
      async () => {
        const rows = await engine.db
          .selectFrom('lab_critical_notifications')
          .selectAll()
          .where('lab_order_id', '=', orderId)
          .orderBy('notified_at')
          .execute();
        return rows.length === 3 ? rows : undefined;
      },
      30_000,
      'three escalation steps',
    );
    expect(steps.map((s) => [s.step, s.recipient_practitioner_id])).toEqual([
      ['ordering', escalating.doctorId],
      ['covering', escalating.coveringId],
      ['head', escalating.headId],
    ]);
    expect(steps[1]!.notified_at.getTime() - steps[0]!.notified_at.getTime()).toBeGreaterThanOrEqual(900);
    expect(steps[2]!.notified_at.getTime() - steps[0]!.notified_at.getTime()).toBeGreaterThanOrEqual(1900);
    const kinds = (
      await engine.db.selectFrom('lab_notifications').select('kind').where('lab_order_id', '=', orderId).orderBy('created_at').execute()
    ).map((n) => n.kind);
    expect(kinds).toEqual(['critical-result', 'critical-escalation-covering', 'critical-escalation-head']);
    expect(await processStatus(orderId)).toBe('critical-unacknowledged');
    const a = labApi(engine, escalating);
    const ack = await a.call('POST', `/lab-orders/${orderId}/acknowledge`, await a.doctorToken(escalating.coveringId), {
      readBack: [{ loinc: '2823-3', value: 2.4, unit: 'mmol/l' }],
    });
    expect(ack.body).toMatchObject({ status: 'acknowledged' });
    const byOther = await a.call('POST', `/lab-orders/${orderId}/acknowledge`, await a.doctorToken(escalating.otherDoctorId), {
      readBack: [],
    });
    expect(byOther.status).toBe(403);
  });
});

describe('amendments', () => {
  test('a corrected result after final is a new version, never an overwrite, and re-runs interpretation and CDS', async () => {
    const patientId = await makeLabPatient(engine.db);
    await api.vitals(patientId);
    const { body: order } = await api.order(patientId, ['2823-3', '2160-0']);
    await api.collectAndReceive(order.id);
    await api.post(order.id, [
      { loinc: '2823-3', value: 4.1, unit: 'mmol/L' },
      { loinc: '2160-0', value: 1.0, unit: 'mg/dL' },
    ]);
    const first = await api.call('GET', `/lab-orders/${order.id}/cds?wait=40s`, await api.doctorToken());
    expect(first.body).toMatchObject({ status: 'ready', round: 1 });
    expect(first.body.cards.map((c: { summary: string }) => c.summary)).toEqual(
      expect.arrayContaining([expect.stringMatching(/not calculated/), expect.stringMatching(/^eGFR \d+/)]),
    );
    const amended = await api.post(order.id, [{ loinc: '2160-0', value: 3.5, unit: 'mg/dL', status: 'corrected' }]);
    expect(amended.body).toMatchObject({ status: 'final', recorded: 1, order: { round: 2, fhir: { diagnosticReportStatus: 'amended' } } });
    const rows = await versions(order.id);
    expect(rows.filter((r) => r.loinc === '2160-0').map((r) => [r.version, r.value, r.status, r.interpretation])).toEqual([
      [1, 88.4, 'final', 'N'],
      [2, 309.4, 'corrected', 'H'],
    ]);
    const second = await api.call('GET', `/lab-orders/${order.id}/cds?wait=40s`, await api.doctorToken());
    expect(second.body).toMatchObject({ status: 'ready', round: 2 });
    expect(second.body.cards.find((c: { summary: string }) => c.summary.startsWith('eGFR')).summary).not.toEqual(
      first.body.cards.find((c: { summary: string }) => c.summary.startsWith('eGFR')).summary,
    );
  });
});

describe('HL7 v2 results and who may see what', () => {
  test('an ORU^R01 is accepted with AA; a malformed one gets AR and an unknown order AE, and neither writes anything', async () => {
    const patientId = await makeLabPatient(engine.db);
    const { body: order } = await api.order(patientId, ['24331-1']);
    await api.collectAndReceive(order.id);
    const ok = await api.hl7(
      oru(
        order.id,
        [
          'NM|2093-3^Cholesterol^LN||5.5|mmol/L|<5.2|H|||F',
          'NM|13457-7^LDL^LN||3.1|mmol/L|<2.6|H|||F',
          'NM|2085-9^HDL^LN||1.2|mmol/L|>1.0|N|||F',
          'NM|2571-8^TG^LN||150|mg/dL|<1.7|N|||F',
        ],
        'MSG-OK-1',
        patientId,
      ),
    );
    expect(ok.status).toBe(200);
    expect(ok.body.split('\r')[1]).toMatch(/^MSA\|AA\|MSG-OK-1\|recorded 4/);
    expect((await versions(order.id)).find((v) => v.loinc === '2571-8')).toMatchObject({
      value: 1.6935,
      reported_value: 150,
      reported_unit: 'mg/dL',
      source: 'hl7v2',
    });

    expect((await api.call('GET', `/lab-orders/${order.id}/cds?wait=40s`, await api.doctorToken())).body.status).toBe('ready');
    const before = [await versions(order.id), await events(order.id)];
    const malformed = await api.hl7('MSH|^~\\&|LIS|X|Y|Z|20261126||ADT^A01|MSG-BAD|P|2.5.1\rPID|1');
    expect([malformed.status, malformed.body.split('\r')[1]]).toEqual([400, 'MSA|AR|MSG-BAD|not_oru: MSH-9 is not ORU\\S\\R01']);
    const unknown = await api.hl7(oru(randomUUID(), ['NM|2093-3^Cholesterol^LN||5.5|mmol/L'], 'MSG-UNK'));
    expect(unknown.status).toBe(422);
    expect(unknown.body).toContain('MSA|AE|MSG-UNK|unknown_order: the placer order number names no order of this lab');
    const refused = await api.hl7(oru(order.id, ['NM|2093-3^Cholesterol^LN||999|mmol/L'], 'MSG-IMP', patientId));
    expect(refused.body).toContain('MSA|AE|MSG-IMP|impossible_value: OBX 1');
    expect([await versions(order.id), await events(order.id)]).toEqual(before);
  });

  test('a lab of another clinic can neither act on the order nor post results for it', async () => {
    const other = await makeLabClinic(engine.db);
    const patientId = await makeLabPatient(engine.db);
    const { body: order } = await api.order(patientId, ['2823-3']);
    const collect = await api.call('POST', `/lab-orders/${order.id}/specimen/collect`, await api.labToken(other.clinicId), {
      barcode: 'TUBE-9999',
    });
    expect([collect.status, collect.body.error.code]).toEqual([403, 'forbidden']);
    const hl7 = await api.hl7(oru(order.id, ['NM|2823-3^K^LN||4.1|mmol/L']), other.clinicId);
    expect(hl7.body).toContain('|AE|');
    const list = await api.call('GET', '/lab/worklist', await api.labToken(other.clinicId));
    expect(list.body.orders.some((o: { id: string }) => o.id === order.id)).toBe(false);
    const mine = await api.call('GET', '/lab/worklist', await api.labToken());
    expect(mine.body.orders.some((o: { id: string }) => o.id === order.id)).toBe(true);
    expect((await engine.db.selectFrom('lab_orders').select('status').where('id', '=', order.id).executeTakeFirstOrThrow()).status).toBe(
      'ordered',
    );
  });

  test("a patient reads their own final results, never preliminary ones, and never another patient's", async () => {
    const patientId = await makeLabPatient(engine.db);
    const { body: order } = await api.order(patientId, ['2823-3', '2951-2']);
    await api.collectAndReceive(order.id);
    await api.post(order.id, [{ loinc: '2823-3', value: 5.4, unit: 'mmol/L' }]);
    const me = await engine.token('patient', { id: 'pt-1', patientId });
    const early = await api.call('GET', `/patients/${patientId}/lab-results`, me);
    expect(early.body).toEqual({ reports: [], more: false });
    await api.post(order.id, [{ loinc: '2951-2', value: 140, unit: 'mmol/L' }]);
    const released = await api.call('GET', `/patients/${patientId}/lab-results`, me);
    expect(released.body.reports).toHaveLength(1);
    expect(released.body.reports[0]).toMatchObject({ orderId: order.id, status: 'final', releasedAt: expect.any(String) });
    expect(released.body.reports[0].results.map((r: { loinc: string; interpretation: string }) => [r.loinc, r.interpretation])).toEqual([
      ['2823-3', 'H'],
      ['2951-2', 'N'],
    ]);
    expect(released.body.reports[0].observations[0]).toMatchObject({
      resourceType: 'Observation',
      interpretation: [{ coding: [{ code: 'H' }] }],
      referenceRange: [{ low: { value: 3.5 }, high: { value: 5 } }],
    });
    const stranger = await api.call('GET', `/patients/${await makeLabPatient(engine.db)}/lab-results`, me);
    expect([stranger.status, stranger.body.error.code]).toEqual([403, 'forbidden']);
    const turnaround = await api.call(
      'GET',
      `/ops/lab-turnaround?from=${new Date(Date.now() - 3600_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`,
      await engine.token('ops'),
    );
    expect(
      turnaround.body.rows.find((r: { loinc: string; clinicId: string }) => r.loinc === '2951-2' && r.clinicId === clinic.clinicId),
    ).toMatchObject({ orders: expect.any(Number), medianSeconds: expect.any(Number), p90Seconds: expect.any(Number) });
  });

  test('every lab order route is in the OpenAPI document with its errors', async () => {
    const doc = (await (await engine.app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    for (const [path, method] of [
      ['/lab-orders', 'post'],
      ['/lab-orders/{id}/results', 'post'],
      ['/lab-results/hl7v2', 'post'],
      ['/lab-orders/{id}/cds', 'get'],
      ['/lab-orders/{id}/acknowledge', 'post'],
      ['/patients/{id}/vitals', 'post'],
      ['/patients/{id}/lab-results', 'get'],
      ['/ops/critical-results', 'get'],
      ['/ops/lab-turnaround', 'get'],
      ['/lab/worklist', 'get'],
      ['/doctors/me/lab-inbox', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method]?.responses).toHaveProperty('401');
    }
  });
});
