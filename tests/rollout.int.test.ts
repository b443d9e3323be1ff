import { randomUUID } from 'node:crypto';
import { rolloutPolicyWith } from '../domain/rollout';
import { onboardingProgressQuery } from '../workflows/onboarding';
import { rolloutDashboardQuery, rolloutProgramWorkflow } from '../workflows/rollout';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';
import { fastPolicy, makeOnboardingClinic } from './onboarding-fixtures';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

type Json = Record<string, any>;
async function call(e: TestEngine, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await e.app.request(path, jsonRequest(method, await e.token('admin'), body));
  return { status: res.status, body: (await res.json()) as Json };
}
/** Clinics that onboard quickly: the pilots start in their pilot, the others in training with nothing to train. */
const pilotClinic = async () => (await makeOnboardingClinic(engine.db, { stage: 'pilot', staff: 0, equipment: 0 })).clinicId;
const waveClinic = async () => (await makeOnboardingClinic(engine.db, { stage: 'training', staff: 0, equipment: 0 })).clinicId;
const POLICY = { onboarding: fastPolicy({ certifiedShare: 0, pilotPeriodSeconds: 1 }) };

/** The program office says go to every clinic awaiting its decision, until stopped. */
function programOffice(e: () => TestEngine, clinicIds: () => string[]) {
  let running = true;
  const done = (async () => {
    while (running) {
      for (const id of clinicIds()) {
        const p = await e()
          .client.workflow.getHandle(`onboarding-${id}`)
          .query(onboardingProgressQuery)
          .catch(() => null);
        if (p?.status === 'awaiting-decision')
          await call(e(), 'POST', `/onboarding/${id}/decision`, { decision: 'go', reason: 'pilot fine' }).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
    },
  };
}
const dashboard = (e: TestEngine, programId: string) => e.client.workflow.getHandle(`rollout-${programId}`).query(rolloutDashboardQuery);
const onboardingWindows = async (clinicIds: string[]) => {
  const rows = await engine.db
    .selectFrom('onboarding_events')
    .select(['clinic_id', 'kind', 'stage', 'at'])
    .where('clinic_id', 'in', clinicIds)
    .where('kind', 'in', ['onboarding-started', 'stage-entered'])
    .execute();
  return clinicIds.map((id) => ({
    id,
    started: rows.find((r) => r.clinic_id === id && r.kind === 'onboarding-started')?.at.getTime(),
    live: rows.find((r) => r.clinic_id === id && r.kind === 'stage-entered' && r.stage === 'live')?.at.getTime(),
  }));
};
const liveCount = async (ids: string[]) =>
  (await engine.db.selectFrom('clinics').select('id').where('id', 'in', ids).where('rollout_stage', '=', 'live').execute()).length;

describe('the city rollout program', () => {
  test('runs the pilots first, then the other clinics in waves never more than the limit at once', async () => {
    const pilots = [await pilotClinic(), await pilotClinic()];
    const others = [await waveClinic(), await waveClinic(), await waveClinic(), await waveClinic(), await waveClinic()];
    const started = await call(engine, 'POST', '/rollout-programs', {
      name: 'Test city',
      pilotClinicIds: pilots,
      clinicIds: others,
      policy: { maxConcurrent: 2, ...POLICY },
    });
    expect(started.status).toBe(201);
    const { programId } = started.body;

    // The pilots run their pilot; nobody else starts before they are live.
    await eventually(
      async () => {
        const states = await Promise.all(
          pilots.map((id) =>
            engine.client.workflow
              .getHandle(`onboarding-${id}`)
              .query(onboardingProgressQuery)
              .catch(() => null),
          ),
        );
        return states.every((s) => s?.status === 'awaiting-decision');
      },
      30_000,
      'pilots awaiting decision',
    );
    const early = await call(engine, 'GET', `/rollout-programs/${programId}`);
    expect(early.body).toMatchObject({ phase: 'pilots', total: 7, perStage: { pilot: 2, queued: 5 } });
    expect((await onboardingWindows(others)).every((w) => w.started === undefined)).toBe(true);

    const office = programOffice(
      () => engine,
      () => [...pilots, ...others],
    );
    try {
      await eventually(async () => (await dashboard(engine, programId)).phase === 'done', 90_000, 'program done');
    } finally {
      await office.stop();
    }
    expect(await liveCount([...pilots, ...others])).toBe(7);
    const final = await call(engine, 'GET', `/rollout-programs/${programId}`);
    expect(final.body).toMatchObject({ phase: 'done', perStage: { live: 7, queued: 0 }, behindSchedule: [] });

    const pilotWindows = await onboardingWindows(pilots);
    const windows = await onboardingWindows(others);
    const lastPilotLive = Math.max(...pilotWindows.map((w) => w.live!));
    for (const w of windows) expect(w.started!).toBeGreaterThanOrEqual(lastPilotLive);
    // At every clinic's start, at most `maxConcurrent` non-pilot clinics were onboarding.
    for (const w of windows) {
      const concurrent = windows.filter((o) => o.started! <= w.started! && o.live! > w.started!).length;
      expect(concurrent).toBeLessThanOrEqual(2);
    }
    expect(await await engine.client.workflow.getHandle(`rollout-${programId}`).result()).toMatchObject({ phase: 'done' });
  }, 150_000);

  test('a paused program starts no one; a clinic added while it runs is onboarded after resume', async () => {
    const pilot = await pilotClinic();
    const other = await waveClinic();
    const added = await waveClinic();
    const { body } = await call(engine, 'POST', '/rollout-programs', {
      name: 'Paused city',
      pilotClinicIds: [pilot],
      clinicIds: [other],
      policy: POLICY,
    });
    const programId = body.programId as string;
    expect((await call(engine, 'POST', `/rollout-programs/${programId}/pause`)).status).toBe(202);
    const withAdded = await call(engine, 'POST', `/rollout-programs/${programId}/clinics`, { clinicId: added });
    expect(withAdded).toMatchObject({ status: 200, body: { total: 3, paused: true } });
    expect((await call(engine, 'POST', `/rollout-programs/${programId}/clinics`, { clinicId: randomUUID() })).body.error.code).toBe(
      'clinic_not_found',
    );

    const office = programOffice(
      () => engine,
      () => [pilot, other, added],
    );
    try {
      await eventually(async () => (await dashboard(engine, programId)).phase === 'waves', 30_000, 'pilot live');
      // The workflow task that moved the program to its waves would have started their onboardings too: it did not.
      const history = await engine.client.workflow.getHandle(`rollout-${programId}`).fetchHistory();
      const childrenStarted = history.events!.map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId).filter(Boolean);
      expect(childrenStarted).toEqual([`onboarding-${pilot}`]);
      expect(await dashboard(engine, programId)).toMatchObject({ paused: true, perStage: { live: 1, queued: 2 } });
      expect((await onboardingWindows([other, added])).every((w) => w.started === undefined)).toBe(true);
      expect((await call(engine, 'POST', `/rollout-programs/${programId}/resume`)).status).toBe(202);
      await eventually(async () => (await dashboard(engine, programId)).phase === 'done', 60_000, 'program done');
    } finally {
      await office.stop();
    }
    expect(await liveCount([pilot, other, added])).toBe(3);
    expect((await call(engine, 'POST', `/rollout-programs/${programId}/clinics`, { clinicId: pilot })).status).toBe(404);
  }, 120_000);

  test('restarting the workers mid-program loses nothing, across continue-as-new runs', async () => {
    const taskQueue = `clinical-restart-${randomUUID().slice(0, 8)}`;
    let current = await startTestEngine({ clinicalTaskQueue: taskQueue });
    const pilots = [await pilotClinic()];
    const others = [await waveClinic(), await waveClinic(), await waveClinic(), await waveClinic()];
    const programId = randomUUID();
    // A tiny history limit, so the program continues as new several times on the way.
    await current.client.workflow.start(rolloutProgramWorkflow, {
      workflowId: `rollout-${programId}`,
      taskQueue,
      args: [
        {
          programId,
          pilotClinicIds: pilots,
          clinicIds: others,
          policy: rolloutPolicyWith({ maxConcurrent: 2, continueAsNewEvents: 30, ...POLICY }),
        },
      ],
    });
    const office = programOffice(
      () => current,
      () => [...pilots, ...others],
    );
    try {
      await eventually(async () => (await onboardingWindows(others)).some((w) => w.started !== undefined), 60_000, 'a wave started');
      await current.stop();
      // Nothing runs the processes now; a new worker picks them up where they were.
      current = await startTestEngine({ clinicalTaskQueue: taskQueue });
      await eventually(async () => (await dashboard(current, programId)).phase === 'done', 90_000, 'program done');
    } finally {
      await office.stop();
      await current.stop();
    }
    expect(await liveCount([...pilots, ...others])).toBe(5);
    const runs: string[] = [];
    for await (const wf of engine.client.workflow.list({ query: `WorkflowId = 'rollout-${programId}'` })) runs.push(wf.runId);
    expect(runs.length).toBeGreaterThan(1);
  }, 200_000);
  test('the dashboard lists a clinic whose tasks are overdue as behind schedule', async () => {
    const late = (await makeOnboardingClinic(engine.db)).clinicId;
    const policy = {
      onboarding: fastPolicy({ taskDeadlineSeconds: { preparation: 2 }, reminderLeadSeconds: 1, escalationStepSeconds: 30 }),
    };
    const { body } = await call(engine, 'POST', '/rollout-programs', { name: 'Late city', pilotClinicIds: [late], clinicIds: [], policy });
    // The outbox relay starts the program behind the 201; the API's dashboard waits for that start.
    expect((await call(engine, 'GET', `/rollout-programs/${body.programId}`)).status).toBe(200);
    await eventually(async () => (await dashboard(engine, body.programId)).behindSchedule.includes(late), 30_000, 'behind schedule');
    expect(await dashboard(engine, body.programId)).toMatchObject({ phase: 'pilots', perStage: { preparation: 1 } });
    for (const id of [`rollout-${body.programId}`, `onboarding-${late}`]) await engine.client.workflow.getHandle(id).terminate('test over');
  }, 60_000);
});
