/**
 * Referral creation through the outbox: the referral, its created event and its process's start
 * commit in one transaction, the answer comes from what committed, and the clinical worker's relay
 * starts the process. A repeat of the same Idempotency-Key makes one row, one outbox row and one
 * process; a refusal (another clinic's registrar, a body cut in half) leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { sql } from 'kysely';
import { createLogger } from '../platform/logger';
import { dataConverter, temporalAddress } from '../platform/temporal';
import { createClinicalWorker } from '../workers/clinical';
import { startOutboxRelay, type OutboxRelay } from '../workers/outbox-relay';
import { referralStatusQuery, referralWorkflowId } from '../workflows/referral';
import { makeClinic, makePatient, type TestClinic } from './fixtures';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';

type Json = Record<string, any>;

// The engine's own clinical worker runs, but no relay: each test decides when the outbox is drained.
let engine: TestEngine;
let connection: NativeConnection;
let worker: Worker;
let workerRunning: Promise<void>;
let relay: OutboxRelay | undefined;
beforeAll(async () => {
  engine = await startTestEngine({ clinicalWorker: false });
  connection = await NativeConnection.connect({ address: temporalAddress(engine.config) });
  worker = await createClinicalWorker({
    connection,
    config: engine.config,
    db: engine.db,
    workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! },
  });
  workerRunning = worker.run();
});
afterAll(async () => {
  await relay?.stop();
  worker.shutdown();
  await workerRunning;
  await connection.close().catch(() => undefined);
  await engine.stop();
});

/** The clinical worker's relay for this engine's task queue (on the worker's connection: eager starts). */
function startRelay(): OutboxRelay {
  if (relay) return relay;
  const client = new Client({ connection, namespace: engine.config.TEMPORAL_NAMESPACE, dataConverter: dataConverter(engine.config) });
  relay = startOutboxRelay({
    db: engine.db,
    client,
    taskQueue: engine.config.CLINICAL_TASK_QUEUE,
    databaseUrl: engine.config.DATABASE_URL!,
    logger: createLogger('test', 'silent'),
    batch: 50,
    concurrency: 8,
    pollMs: 200,
    startsPerSecond: 0,
  });
  return relay;
}
async function stopRelay(): Promise<void> {
  await relay?.stop();
  relay = undefined;
}

const doctorOf = (clinic: TestClinic) =>
  engine.token('doctor', { id: `doctor-${clinic.otherPractitionerId}`, practitionerId: clinic.otherPractitionerId });
const referralBody = (clinic: TestClinic, patientId: string) => ({
  patientId,
  referringPractitionerId: clinic.otherPractitionerId,
  specialty: clinic.specialty,
  reason: 'chest pain on exertion',
  icd10: 'I20.8',
});
async function post(token: string, body: unknown, key: string): Promise<{ status: number; body: Json }> {
  const init = jsonRequest('POST', token, body);
  (init.headers as Record<string, string>)['idempotency-key'] = key;
  const res = await engine.app.request('/referrals', init);
  return { status: res.status, body: (await res.json()) as Json };
}
const referralsOf = (patientId: string) => engine.db.selectFrom('referrals').selectAll().where('patient_id', '=', patientId).execute();
const outboxOf = (patientId: string) =>
  engine.db
    .selectFrom('process_outbox')
    .selectAll()
    .where(sql<boolean>`payload -> 'input' ->> 'patientId' = ${patientId}`)
    .orderBy('id')
    .execute();
const liveState = (referralId: string) =>
  engine.client.workflow
    .getHandle(referralWorkflowId(referralId))
    .query(referralStatusQuery)
    .catch(() => undefined);
/** How many runs Temporal has of the referral's workflow id (a second start would be a second run). */
async function runs(referralId: string): Promise<number> {
  let n = 0;
  for await (const _ of engine.client.workflow.list({ query: `WorkflowId = '${referralWorkflowId(referralId)}'` })) n++;
  return n;
}

describe('a referral through the outbox', () => {
  test('answers 201 from the committed row with its start in the outbox; the relay starts the process, which offers slots', async () => {
    await stopRelay();
    const clinic = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const created = await post(await doctorOf(clinic), referralBody(clinic, patientId), `ref-${randomUUID()}`);
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    // Answered with no relay running: the row, its created event and one undone start row committed; no process yet.
    const [row] = await referralsOf(patientId);
    expect(row).toMatchObject({ id, status: 'created', workflow_id: referralWorkflowId(id), clinic_id: clinic.clinicId });
    expect(created.body).toMatchObject({ id, status: 'created', deadlineAt: row!.deadline_at.toISOString(), clinicId: clinic.clinicId });
    const steps = await engine.db.selectFrom('referral_events').select('step').where('referral_id', '=', id).execute();
    expect(steps.map((s) => s.step)).toEqual(['created']);
    const [pending] = await outboxOf(patientId);
    expect(pending).toMatchObject({
      process: 'referral',
      kind: 'start',
      subject_id: id,
      workflow_id: referralWorkflowId(id),
      task_queue: engine.config.CLINICAL_TASK_QUEUE,
      done_at: null,
    });
    // The process starts with the deadline the row was written with.
    expect(pending!.payload.input).toMatchObject({ referralId: id, patientId, deadlineAt: row!.deadline_at.toISOString() });
    expect(await liveState(id)).toBeUndefined();

    startRelay();
    await eventually(async () => (await outboxOf(patientId))[0]!.done_at !== null, 20_000, 'the start row drained');
    await eventually(async () => (await liveState(id))?.status === 'offered', 20_000, 'the process offering slots');
    const detail = await engine.app.request(`/referrals/${id}`, jsonRequest('GET', await doctorOf(clinic)));
    expect(((await detail.json()) as Json).process).toMatchObject({ status: 'offered', escalationLevel: 0 });
    expect(await runs(id)).toBe(1);
    expect(await outboxOf(patientId)).toHaveLength(1);
  });

  test('the same Idempotency-Key twice, one after the other and side by side, makes one row, one outbox row and one process', async () => {
    startRelay();
    const clinic = await makeClinic(engine.db);
    const token = await doctorOf(clinic);
    for (const together of [false, true]) {
      const patientId = await makePatient(engine.db);
      const key = `ref-${randomUUID()}`;
      const answers = together
        ? await Promise.all([post(token, referralBody(clinic, patientId), key), post(token, referralBody(clinic, patientId), key)])
        : [await post(token, referralBody(clinic, patientId), key), await post(token, referralBody(clinic, patientId), key)];
      expect(answers.map((a) => a.status)).toEqual([201, 201]);
      const id = answers[0]!.body.id as string;
      expect(answers[1]!.body.id).toBe(id);
      expect(await referralsOf(patientId)).toHaveLength(1);
      expect(await outboxOf(patientId)).toHaveLength(1);
      await eventually(async () => (await liveState(id))?.status === 'offered', 20_000, 'the process offering slots');
      expect(await runs(id)).toBe(1);
      const created = await engine.db
        .selectFrom('referral_events')
        .select('id')
        .where('referral_id', '=', id)
        .where('step', '=', 'created')
        .execute();
      expect(created).toHaveLength(1);
    }
  });

  test("another clinic's registrar gets 403 and nothing is written: no referral, no outbox row", async () => {
    const clinic = await makeClinic(engine.db);
    const elsewhere = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const refused = await post(
      await engine.token('registrar', { clinicId: elsewhere.clinicId }),
      referralBody(clinic, patientId),
      `ref-${randomUUID()}`,
    );
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('wrong_clinic');
    expect(await referralsOf(patientId)).toHaveLength(0);
    expect(await outboxOf(patientId)).toHaveLength(0);
  });

  test('a body cut in half gets 400 and nothing is written', async () => {
    const clinic = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const whole = JSON.stringify(referralBody(clinic, patientId));
    const cut = await post(await doctorOf(clinic), whole.slice(0, Math.floor(whole.length / 2)), `ref-${randomUUID()}`);
    expect(cut.status).toBe(400);
    expect(typeof cut.body.error.code).toBe('string');
    expect(await referralsOf(patientId)).toHaveLength(0);
    expect(await outboxOf(patientId)).toHaveLength(0);
  });

  test('a cancel sent before the process has started waits for its start, then cancels', async () => {
    await stopRelay();
    const clinic = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const token = await doctorOf(clinic);
    const created = await post(token, referralBody(clinic, patientId), `ref-${randomUUID()}`);
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const cancelling = engine.app.request(`/referrals/${id}/cancel`, jsonRequest('POST', token, { reason: 'patient moved away' }));
    await new Promise((r) => setTimeout(r, 500));
    expect(await liveState(id)).toBeUndefined();
    startRelay();
    const res = await cancelling;
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).status).toBe('cancelled');
    expect((await referralsOf(patientId))[0]!.status).toBe('cancelled');
  });
});
