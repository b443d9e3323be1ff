/**
 * Rollout program creation through the outbox: the program's row and its process's start commit in
 * one transaction, the answer comes from what committed, and the clinical worker's relay starts the
 * program. A repeat of the same Idempotency-Key makes one row, one outbox row and one process; a
 * refusal (a caller who is not admin, a body cut in half) leaves nothing behind; a pause sent before
 * the start waits for it, then applies.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { sql } from 'kysely';
import { createLogger } from '../platform/logger';
import { dataConverter, temporalAddress } from '../platform/temporal';
import { createClinicalWorker } from '../workers/clinical';
import { startOutboxRelay, type OutboxRelay } from '../workers/outbox-relay';
import { pauseProgramSignal, rolloutStateQuery, rolloutWorkflowId } from '../workflows/rollout';
import { makeClinic } from './fixtures';
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

/** A clinic still to onboard: its onboarding waits on people's tasks, so the program runs while the test does. */
async function clinicToOnboard(): Promise<string> {
  const { clinicId } = await makeClinic(engine.db);
  await engine.db.updateTable('clinics').set({ rollout_stage: 'preparation' }).where('id', '=', clinicId).execute();
  return clinicId;
}
const programBody = (pilotClinicId: string) => ({
  name: `Outbox city ${pilotClinicId.slice(0, 8)}`,
  pilotClinicIds: [pilotClinicId],
  clinicIds: [],
});
async function request(token: string, method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: Json }> {
  const init = jsonRequest(method, token, body);
  if (key) (init.headers as Record<string, string>)['idempotency-key'] = key;
  const res = await engine.app.request(path, init);
  return { status: res.status, body: (await res.json()) as Json };
}
const admin = () => engine.token('admin');
/** The programs and outbox rows naming this pilot clinic (found without the program's id, which a refusal never gives). */
const programsOf = (pilotClinicId: string) =>
  engine.db
    .selectFrom('rollout_programs')
    .selectAll()
    .where(sql<boolean>`${pilotClinicId} = ANY(pilot_clinic_ids::text[])`)
    .execute();
const outboxOf = (pilotClinicId: string) =>
  engine.db
    .selectFrom('process_outbox')
    .selectAll()
    .where(sql<boolean>`payload -> 'input' -> 'pilotClinicIds' @> ${JSON.stringify([pilotClinicId])}::jsonb`)
    .orderBy('id')
    .execute();
const liveState = (programId: string) =>
  engine.client.workflow
    .getHandle(rolloutWorkflowId(programId))
    .query(rolloutStateQuery)
    .catch(() => undefined);
/** How many runs Temporal has of the program's workflow id (a second start would be a second run). */
async function runs(programId: string): Promise<number> {
  let n = 0;
  for await (const _ of engine.client.workflow.list({ query: `WorkflowId = '${rolloutWorkflowId(programId)}'` })) n++;
  return n;
}
const pilotStarted = async (programId: string, pilot: string) => {
  const stage = (await liveState(programId))?.clinics[pilot]?.stage;
  return stage !== undefined && stage !== 'queued';
};

describe('a rollout program through the outbox', () => {
  test('answers 201 from the committed row with its start in the outbox; the relay starts the program, which onboards its pilot', async () => {
    await stopRelay();
    const pilot = await clinicToOnboard();
    const created = await request(await admin(), 'POST', '/rollout-programs', programBody(pilot), `prog-${randomUUID()}`);
    expect(created.status).toBe(201);
    const { programId, workflowId } = created.body;

    // Answered with no relay running: the row and one undone start row committed; no process yet.
    const [row] = await programsOf(pilot);
    expect(row).toMatchObject({
      id: programId,
      workflow_id: rolloutWorkflowId(programId),
      pilot_clinic_ids: [pilot],
      created_by: 'test-admin',
    });
    expect(workflowId).toBe(row!.workflow_id);
    const [pending] = await outboxOf(pilot);
    expect(pending).toMatchObject({
      process: 'rollout',
      kind: 'start',
      subject_id: programId,
      workflow_id: workflowId,
      task_queue: engine.config.CLINICAL_TASK_QUEUE,
      done_at: null,
    });
    // The process starts with the very policy the row was written with.
    expect(pending!.payload.input).toEqual({ programId, pilotClinicIds: [pilot], clinicIds: [], policy: row!.policy });
    expect(await liveState(programId)).toBeUndefined();
    // The list shows the committed program at once.
    const list = await request(await admin(), 'GET', '/rollout-programs?limit=200');
    expect(list.body.programs.map((p: Json) => p.id)).toContain(programId);

    startRelay();
    await eventually(async () => (await outboxOf(pilot))[0]!.done_at !== null, 20_000, 'the start row drained');
    await eventually(() => pilotStarted(programId, pilot), 30_000, 'the pilot onboarding');
    const dashboard = await request(await admin(), 'GET', `/rollout-programs/${programId}`);
    expect(dashboard.status).toBe(200);
    expect(dashboard.body).toMatchObject({ programId, phase: 'pilots', paused: false, total: 1, pilots: [pilot] });
    expect(await runs(programId)).toBe(1);
    expect(await outboxOf(pilot)).toHaveLength(1);
  });

  test('the same Idempotency-Key twice, one after the other and side by side, makes one row, one outbox row and one process', async () => {
    startRelay();
    const token = await admin();
    for (const together of [false, true]) {
      const pilot = await clinicToOnboard();
      const key = `prog-${randomUUID()}`;
      const send = () => request(token, 'POST', '/rollout-programs', programBody(pilot), key);
      const answers = together ? await Promise.all([send(), send()]) : [await send(), await send()];
      expect(answers.map((a) => a.status)).toEqual([201, 201]);
      const programId = answers[0]!.body.programId as string;
      expect(answers[1]!.body).toEqual(answers[0]!.body);
      expect(await programsOf(pilot)).toHaveLength(1);
      expect(await outboxOf(pilot)).toHaveLength(1);
      await eventually(() => pilotStarted(programId, pilot), 30_000, 'the pilot onboarding');
      expect(await runs(programId)).toBe(1);
    }
  });

  test('a caller who is not admin gets 403 and nothing is written: no program, no outbox row', async () => {
    for (const token of [
      await engine.token('ops'),
      await engine.token('registrar', { clinicId: randomUUID() }),
      await engine.token('doctor', { practitionerId: randomUUID() }),
    ]) {
      const pilot = await clinicToOnboard();
      const refused = await request(token, 'POST', '/rollout-programs', programBody(pilot), `prog-${randomUUID()}`);
      expect(refused.status).toBe(403);
      expect(typeof refused.body.error.code).toBe('string');
      expect(await programsOf(pilot)).toHaveLength(0);
      expect(await outboxOf(pilot)).toHaveLength(0);
    }
  });

  test('a body cut in half gets 400 and nothing is written', async () => {
    const pilot = await clinicToOnboard();
    const whole = JSON.stringify(programBody(pilot));
    const cut = await request(
      await admin(),
      'POST',
      '/rollout-programs',
      whole.slice(0, Math.floor(whole.length / 2)),
      `prog-${randomUUID()}`,
    );
    expect(cut.status).toBe(400);
    expect(typeof cut.body.error.code).toBe('string');
    expect(await programsOf(pilot)).toHaveLength(0);
    expect(await outboxOf(pilot)).toHaveLength(0);
  });

  test('a pause sent before the program has started waits for its start, then pauses it', async () => {
    await stopRelay();
    const pilot = await clinicToOnboard();
    const token = await admin();
    const created = await request(token, 'POST', '/rollout-programs', programBody(pilot), `prog-${randomUUID()}`);
    expect(created.status).toBe(201);
    const { programId, workflowId } = created.body;
    const pausing = request(token, 'POST', `/rollout-programs/${programId}/pause`);
    await new Promise((r) => setTimeout(r, 500));
    expect(await liveState(programId)).toBeUndefined();
    startRelay();
    const paused = await pausing;
    expect(paused.status).toBe(202);
    expect(paused.body).toEqual({ accepted: true });
    await eventually(async () => (await liveState(programId))?.paused === true, 20_000, 'the program paused');
    const history = await engine.client.workflow.getHandle(workflowId).fetchHistory();
    const signals = history.events!.map((e) => e.workflowExecutionSignaledEventAttributes?.signalName).filter(Boolean);
    // One pause, delivered once (the onboarding children report by signal too).
    expect(signals.filter((name) => name === pauseProgramSignal.name)).toHaveLength(1);
    expect(await runs(programId)).toBe(1);
  });
});
