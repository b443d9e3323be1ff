/**
 * The CDS worker down while results go final: the order waits (its card pending, the process open)
 * and completes with its card once a CDS worker serves the queue again. The order scores on a task
 * queue of its own here, so other test files' CDS workers cannot serve it meanwhile.
 */
import { randomUUID } from 'node:crypto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { createCdsActivities } from '../activities/cds';
import { expandTests, labOrderPolicy, loadCatalogue } from '../db/lab-order';
import { labOrderWorkflowId, type LabOrderInput } from '../domain/lab-order';
import { dataConverter, temporalAddress } from '../platform/temporal';
import { labOrderStatusQuery, labOrderWorkflow, registerLabOrderUpdate } from '../workflows/lab-order';
import { eventually, startTestEngine, type TestEngine } from './helpers';
import { LIPIDS_MMOL, labApi, makeLabClinic, makeLabPatient } from './lab-fixtures';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

test('with the CDS worker stopped the final order waits for its card, and completes with it when a worker returns', async () => {
  const clinic = await makeLabClinic(engine.db);
  const api = labApi(engine, clinic);
  const patientId = await makeLabPatient(engine.db);
  expect((await api.vitals(patientId)).status).toBe(201);
  const cdsTaskQueue = `cds-down-${randomUUID().slice(0, 8)}`;
  const orderId = randomUUID();
  const { loincs } = await expandTests(engine.db, ['24331-1', '2345-7']);
  const input: LabOrderInput = {
    orderId,
    patientId,
    clinicId: clinic.clinicId,
    orderingPractitionerId: clinic.doctorId,
    coveringPractitionerId: clinic.coveringId,
    headPractitionerId: clinic.headId,
    priority: 'routine',
    note: null,
    tests: loincs,
    orderedAt: new Date().toISOString(),
    catalogue: await loadCatalogue(engine.db, loincs),
    patientSex: 'male',
    patientBirthDate: '1966-01-01',
    policy: await labOrderPolicy(engine.db, clinic.clinicId),
    cdsTaskQueue,
  };
  await engine.client.workflow.executeUpdateWithStart(registerLabOrderUpdate, {
    args: [],
    updateId: 'register',
    startWorkflowOperation: new WithStartWorkflowOperation(labOrderWorkflow, {
      workflowId: labOrderWorkflowId(orderId),
      taskQueue: engine.config.CLINICAL_TASK_QUEUE,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
  await api.collectAndReceive(orderId);
  const posted = await api.post(orderId, [...LIPIDS_MMOL, { loinc: '2345-7', value: 6.5, unit: 'mmol/L' }]);
  expect(posted.body.status).toBe('final');
  const ack = await api.call('POST', `/lab-orders/${orderId}/acknowledge`, await api.doctorToken(), { readBack: [] });
  expect(ack.body.status).toBe('acknowledged');

  // No worker on the queue: the wait runs out, nothing is stored, and the process stays open past its amendment window.
  const pending = await api.call('GET', `/lab-orders/${orderId}/cds?wait=3s`, await api.doctorToken());
  expect(pending.body).toEqual({ status: 'pending', round: 1, cards: [] });
  const handle = engine.client.workflow.getHandle(labOrderWorkflowId(orderId));
  expect((await handle.describe()).status.name).toBe('RUNNING');
  expect(await engine.db.selectFrom('lab_cds_cards').select('round').where('lab_order_id', '=', orderId).execute()).toEqual([]);
  expect((await handle.query(labOrderStatusQuery)).status).toBe('acknowledged');

  const waiting = api.doctorToken().then((t) => api.call('GET', `/lab-orders/${orderId}/cds?wait=60s`, t));
  const connection = await NativeConnection.connect({ address: temporalAddress(engine.config) });
  const worker = await Worker.create({
    connection,
    namespace: engine.config.TEMPORAL_NAMESPACE,
    taskQueue: cdsTaskQueue,
    dataConverter: dataConverter(engine.config),
    activities: createCdsActivities({ registry: engine.registry, batch: { maxBatchSize: 1, maxWaitMs: 0 } }),
  });
  const running = worker.run();
  try {
    const ready = await waiting;
    expect(ready.body.status).toBe('ready');
    expect(ready.body.cards[0].summary).toMatch(/^Diabetes progression: \w+ band/);
    const final = await handle.result();
    expect(final.status).toBe('closed');
    expect(
      await eventually(
        async () =>
          (await engine.db.selectFrom('lab_orders').select('status').where('id', '=', orderId).executeTakeFirst())?.status === 'closed',
        30_000,
      ),
    ).toBe(true);
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
});
