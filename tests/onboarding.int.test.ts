import { onboardingProgressQuery, onboardingStateQuery } from '../workflows/onboarding';
import { daysFromNow, makePatient, makeSlot } from './fixtures';
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
/** `clinicId`: the clinic the token works for (registrars act only for their own clinic). */
async function call(
  method: string,
  path: string,
  role: 'ops' | 'admin' | 'registrar' | 'doctor',
  body?: unknown,
  clinicId?: string,
): Promise<{ status: number; body: Json }> {
  const init = jsonRequest(method, await engine.token(role, clinicId ? { clinicId } : {}), body);
  if (path === '/appointments')
    (init.headers as Record<string, string>)['idempotency-key'] = `key-${Math.random().toString(36).slice(2, 12)}`;
  const res = await engine.app.request(path, init);
  return { status: res.status, body: (await res.json()) as Json };
}
const progress = (clinicId: string) => engine.client.workflow.getHandle(`onboarding-${clinicId}`).query(onboardingProgressQuery);
const stageIs = (clinicId: string, stage: string, timeoutMs = 30_000) =>
  eventually(async () => (await progress(clinicId).catch(() => null))?.stage === stage, timeoutMs, `stage ${stage}`);
const clinicStage = async (clinicId: string) =>
  (await engine.db.selectFrom('clinics').select('rollout_stage').where('id', '=', clinicId).executeTakeFirstOrThrow()).rollout_stage;
const events = async (clinicId: string) =>
  await engine.db.selectFrom('onboarding_events').select(['kind', 'stage']).where('clinic_id', '=', clinicId).orderBy('id').execute();
const start = (clinicId: string, policy = fastPolicy()) => call('POST', `/onboarding/${clinicId}/start`, 'admin', { policy });
async function listed(filter: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of engine.client.workflow.list({ query: `WorkflowType = 'onboardingWorkflow' AND ${filter}` }))
    ids.push(wf.workflowId);
  return ids;
}

describe('clinic onboarding', () => {
  test('a clinic goes from preparation through training and pilot to go-live, and is bookable only from its pilot on', async () => {
    const clinic = await makeOnboardingClinic(engine.db, { patients: 3 });
    const patientId = await makePatient(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(2));
    expect(await start(clinic.clinicId)).toMatchObject({ status: 202, body: { workflowId: `onboarding-${clinic.clinicId}` } });
    await stageIs(clinic.clinicId, 'preparation');
    const url = `/onboarding/${clinic.clinicId}`;

    // Not bookable before the pilot: its slots are not offered, and a booking is refused naming the stage.
    const refused = await call('POST', '/appointments', 'registrar', { slotId: slot.id, patientId }, clinic.clinicId);
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'clinic_not_live', details: { stage: 'preparation' } } } });
    const day = slot.startsAt.toISOString().slice(0, 10);
    expect((await call('GET', `/slots?from=${day}&to=${day}&clinicId=${clinic.clinicId}`, 'registrar')).body.slots).toEqual([]);
    expect((await call('GET', '/clinics?stage=preparation', 'ops')).body.clinics.map((c: Json) => c.id)).toContain(clinic.clinicId);
    expect((await call('GET', '/clinics', 'registrar')).status).toBe(403);

    // Equipment goes ordered → delivered → installed, in that order only.
    const [first, second] = clinic.equipmentIds;
    expect((await call('POST', `${url}/equipment/${first}`, 'ops', { step: 'delivered' })).body.error.code).toBe('validation_failed');
    for (const item of [first, second])
      for (const step of ['ordered', 'delivered', 'installed'])
        expect((await call('POST', `${url}/equipment/${item}`, 'ops', { step })).status).toBe(200);

    expect((await call('POST', `${url}/tasks/infrastructure-survey/complete`, 'ops', {})).status).toBe(200);
    expect((await call('POST', `${url}/tasks/system-adaptation/complete`, 'ops', {})).status).toBe(200);
    // The registry's counts must reconcile; a task is completed by its owner's role (or admin).
    expect((await call('POST', `${url}/tasks/registry-migration/complete`, 'ops', { expectedPatients: 4 })).body.error.code).toBe(
      'precondition_failed',
    );
    expect((await call('POST', `${url}/tasks/registry-migration/complete`, 'ops', { expectedPatients: 3 })).status).toBe(200);
    expect((await call('POST', `${url}/tasks/process-unification/complete`, 'ops', {})).body.error.code).toBe('forbidden');
    expect((await call('POST', `${url}/tasks/staff-training/complete`, 'ops', {})).status).toBe(409);
    const unified = await call('POST', `${url}/tasks/process-unification/complete`, 'admin', {});
    expect(unified.status).toBe(200);

    // Training: the stage completes once the policy share (half) of the staff is certified.
    await stageIs(clinic.clinicId, 'training');
    expect(await clinicStage(clinic.clinicId)).toBe('training');
    expect((await call('POST', `${url}/training`, 'ops', { staffId: clinic.staffIds[0], certified: true })).status).toBe(200);

    // Pilot: bookable; metrics gathered; then the program office decides.
    await stageIs(clinic.clinicId, 'pilot');
    expect(await clinicStage(clinic.clinicId)).toBe('pilot');
    expect((await call('POST', '/appointments', 'registrar', { slotId: slot.id, patientId }, clinic.clinicId)).status).toBe(201);
    await eventually(async () => (await progress(clinic.clinicId)).status === 'awaiting-decision', 30_000, 'awaiting decision');
    expect((await call('POST', `${url}/decision`, 'ops', { decision: 'go', reason: 'pilot fine' })).status).toBe(403);
    const go = await call('POST', `${url}/decision`, 'admin', { decision: 'go', reason: 'pilot fine' });
    expect(go.status).toBe(200);
    await stageIs(clinic.clinicId, 'live');
    expect(await clinicStage(clinic.clinicId)).toBe('live');

    const view = await call('GET', url, 'ops');
    expect(view.body.progress).toMatchObject({ stage: 'live', tasksDone: 8, tasksTotal: 8, openBlockers: 0, status: 'live' });
    expect(view.body.tasks.every((t: Json) => t.fhir.status === 'completed')).toBe(true);
    expect(view.body.equipment).toEqual({ total: 2, installed: 2 });
    expect(view.body.equipmentItems.map((i: Json) => i.step)).toEqual(['installed', 'installed']);
    expect(view.body.staffMembers.map((m: Json) => m.certified).sort()).toEqual([false, true]);
    const kinds = (await events(clinic.clinicId)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'stage-entered')).toHaveLength(4);
    expect(kinds).toEqual(
      expect.arrayContaining(['onboarding-started', 'equipment-installed', 'staff-certified', 'pilot-metrics', 'decision-go']),
    );
    const tasks = await engine.db
      .selectFrom('onboarding_tasks')
      .select(['task', 'status', 'approved_by'])
      .where('clinic_id', '=', clinic.clinicId)
      .execute();
    expect(tasks.filter((t) => t.status === 'completed')).toHaveLength(8);
    await eventually(
      async () => (await listed(`ClinicId = '${clinic.clinicId}' AND OnboardingStage = 'live' AND ProcessStatus = 'live'`)).length === 1,
      15_000,
      'search attributes',
    );
  }, 120_000);

  test('a no-go sends the pilot back for another period, and go is refused while a blocking incident is open', async () => {
    const clinic = await makeOnboardingClinic(engine.db, { stage: 'pilot' });
    await start(clinic.clinicId, fastPolicy({ pilotPeriodSeconds: 2 }));
    const url = `/onboarding/${clinic.clinicId}`;
    await stageIs(clinic.clinicId, 'pilot');
    // A doctor of another clinic cannot block this clinic's go-live.
    expect((await call('POST', `${url}/incidents`, 'doctor', { blocking: true, description: 'not my clinic' })).status).toBe(403);
    const incident = await call(
      'POST',
      `${url}/incidents`,
      'doctor',
      { blocking: true, description: 'lab orders do not reach the lab' },
      clinic.clinicId,
    );
    expect(incident.status).toBe(201);
    await eventually(async () => (await progress(clinic.clinicId)).status === 'awaiting-decision', 30_000, 'awaiting decision');

    const refused = await call('POST', `${url}/decision`, 'admin', { decision: 'go', reason: 'looks fine' });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'blocking_incidents_open' } } });
    expect((await call('POST', `${url}/decision`, 'admin', { decision: 'no-go', reason: 'open incident' })).status).toBe(200);
    // Another pilot period: round 2, metrics again, a decision awaited again.
    await eventually(
      async () => {
        const s = await engine.client.workflow.getHandle(`onboarding-${clinic.clinicId}`).query(onboardingStateQuery);
        return s.pilotRound === 2 && s.awaitingDecision;
      },
      30_000,
      'second pilot round',
    );
    expect(await clinicStage(clinic.clinicId)).toBe('pilot');
    expect((await call('POST', `${url}/incidents/${incident.body.incidentId}/resolve`, 'ops')).status).toBe(200);
    expect((await call('POST', `${url}/decision`, 'admin', { decision: 'go', reason: 'incident fixed' })).status).toBe(200);
    await stageIs(clinic.clinicId, 'live');

    const kinds = (await events(clinic.clinicId)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'pilot-metrics')).toHaveLength(2);
    expect(kinds).toEqual(expect.arrayContaining(['incident-reported', 'decision-no-go', 'incident-resolved', 'decision-go']));
    const incidentRow = await engine.db
      .selectFrom('pilot_incidents')
      .select(['status', 'blocking'])
      .where('id', '=', incident.body.incidentId)
      .executeTakeFirstOrThrow();
    expect(incidentRow).toEqual({ status: 'resolved', blocking: true });
  }, 120_000);

  test('an overdue task reminds its owner, then escalates, and ops see the clinic as overdue', async () => {
    const clinic = await makeOnboardingClinic(engine.db);
    await start(clinic.clinicId, fastPolicy({ taskDeadlineSeconds: { preparation: 3 }, reminderLeadSeconds: 1, escalationStepSeconds: 2 }));
    await eventually(
      async () => (await progress(clinic.clinicId).catch(() => null))?.overdueTasks.length === 5,
      30_000,
      'every open task overdue',
    );
    const p = await progress(clinic.clinicId);
    expect(p).toMatchObject({ stage: 'preparation', status: 'overdue' });
    expect(p.overdueTasks).toEqual(expect.arrayContaining(['infrastructure-survey', 'registry-migration']));
    const kinds = (await events(clinic.clinicId)).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['task-reminder', 'task-escalated']));
    const row = await engine.db
      .selectFrom('onboarding_tasks')
      .select(['escalations', 'deadline_at'])
      .where('clinic_id', '=', clinic.clinicId)
      .where('task', '=', 'infrastructure-survey')
      .executeTakeFirstOrThrow();
    expect(row.escalations).toBeGreaterThanOrEqual(1);
    expect(row.deadline_at!.getTime()).toBeLessThan(Date.now());
    const view = await call('GET', `/onboarding/${clinic.clinicId}`, 'ops');
    expect(view.body.tasks.find((t: Json) => t.key === 'infrastructure-survey').fhir).toEqual({
      status: 'in-progress',
      businessStatus: { text: 'overdue' },
    });
    await eventually(
      async () => (await listed(`ClinicId = '${clinic.clinicId}' AND ProcessStatus = 'overdue'`)).length === 1,
      15_000,
      'ProcessStatus overdue',
    );
    // Escalation stops after its last step.
    await eventually(
      async () => (await events(clinic.clinicId)).filter((e) => e.kind === 'task-escalated').length >= 3 * 4,
      30_000,
      'all escalation steps',
    );
    await engine.client.workflow.getHandle(`onboarding-${clinic.clinicId}`).terminate('test over');
  }, 120_000);

  test('a blocker pauses the stage until it is resolved, then the stage completes', async () => {
    const clinic = await makeOnboardingClinic(engine.db, { stage: 'training' });
    await start(clinic.clinicId);
    const url = `/onboarding/${clinic.clinicId}`;
    await stageIs(clinic.clinicId, 'training');
    const blocker = await call('POST', `${url}/blockers`, 'ops', { description: 'training room has no network' });
    expect(blocker).toMatchObject({ status: 201, body: { openBlockers: 1, status: 'blocked' } });
    // The share is reached while blocked: the workflow completes the training task, and the stage does not move on.
    const handle = engine.client.workflow.getHandle(`onboarding-${clinic.clinicId}`);
    const stagesEntered = async () =>
      (await handle.fetchHistory()).events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'enterStage')
        .length;
    const entered = await stagesEntered();
    expect((await call('POST', `${url}/training`, 'ops', { staffId: clinic.staffIds[0], certified: true })).status).toBe(200);
    await eventually(
      async () => (await progress(clinic.clinicId)).stageTasksDone === 1,
      20_000,
      'the training task completed by the workflow',
    );
    // The workflow task that completed it would have scheduled the next stage's entry too: it did not.
    expect(await stagesEntered()).toBe(entered);
    expect(await progress(clinic.clinicId)).toMatchObject({ stage: 'training', stageTasksDone: 1, openBlockers: 1, status: 'blocked' });
    expect(
      (
        await engine.db
          .selectFrom('onboarding_tasks')
          .select('blocked')
          .where('clinic_id', '=', clinic.clinicId)
          .where('task', '=', 'go-live-decision')
          .executeTakeFirstOrThrow()
      ).blocked,
    ).toBe(false);
    const view = await call('GET', url, 'ops');
    expect(view.body.blockers).toHaveLength(1);

    expect((await call('POST', `${url}/blockers/${blocker.body.blockerId}/resolve`, 'ops')).status).toBe(200);
    await stageIs(clinic.clinicId, 'pilot');
    const row = await engine.db
      .selectFrom('onboarding_blockers')
      .select(['resolved_at', 'resolved_by'])
      .where('id', '=', blocker.body.blockerId)
      .executeTakeFirstOrThrow();
    expect(row.resolved_at).not.toBeNull();
    expect((await events(clinic.clinicId)).map((e) => e.kind)).toEqual(expect.arrayContaining(['blocker-reported', 'blocker-resolved']));
    await engine.client.workflow.getHandle(`onboarding-${clinic.clinicId}`).terminate('test over');
  }, 120_000);

  test('the OpenAPI document declares the onboarding and rollout routes with their refusals', async () => {
    const doc = (await (await engine.app.request('/openapi.json')).json()) as any;
    expect(doc.paths['/onboarding/{clinicId}/decision'].post.responses).toHaveProperty('409');
    expect(doc.paths['/onboarding/{clinicId}/tasks/{taskId}/complete'].post.responses).toHaveProperty('422');
    expect(doc.paths['/rollout-programs'].post.responses).toHaveProperty('201');
    expect(doc.paths['/rollout-programs/{id}/pause'].post.responses).toHaveProperty('202');
    expect(doc.paths['/appointments'].post.responses['409'].description).toContain('clinic_not_live');
  });
});
