/**
 * Clinic onboarding, one workflow per clinic (`onboarding-<clinicId>`): preparation → training →
 * pilot → live. Tasks have owners and deadlines from the policy; owners are reminded before the
 * deadline and an overdue task is escalated, step by step. A blocker pauses the stage (its deadlines
 * stop) until resolved. The pilot makes the clinic bookable, gathers metrics for a policy period and
 * waits for the program office's go / no-go; a no-go runs another pilot period.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createOnboardingActivities } from '../activities/onboarding';
import {
  computeProgress,
  initialTasks,
  mayComplete,
  nextStage,
  nextTaskAlarm,
  onboardingWorkflowId,
  taskTemplate,
  trainingComplete,
  type BlockerRequest,
  type CompleteTaskRequest,
  type DecisionRequest,
  type EquipmentRequest,
  type IncidentRequest,
  type OnboardingInput,
  type OnboardingStage,
  type OnboardingState,
  type Progress,
  type ResolveRequest,
  type TaskView,
  type TrainingRequest,
} from '../domain/onboarding';
import type { StageReport } from '../domain/rollout';
import { clinicIdKey, onboardingStageKey, processStatusKey } from './search-attributes';
import { HandlerLock } from './handler-lock';

export const completeTaskUpdate = defineUpdate<Progress, [CompleteTaskRequest]>('completeTask');
export const reportBlockerUpdate = defineUpdate<Progress, [BlockerRequest]>('reportBlocker');
export const resolveBlockerUpdate = defineUpdate<Progress, [ResolveRequest]>('resolveBlocker');
export const recordTrainingUpdate = defineUpdate<Progress, [TrainingRequest]>('recordTraining');
export const equipmentStepUpdate = defineUpdate<Progress, [EquipmentRequest]>('equipmentStep');
export const reportIncidentUpdate = defineUpdate<Progress, [IncidentRequest]>('reportIncident');
export const resolveIncidentUpdate = defineUpdate<Progress, [ResolveRequest]>('resolveIncident');
export const decisionUpdate = defineUpdate<Progress, [DecisionRequest]>('decision');
/** A program that found this clinic already onboarding asks to be told of its stages. */
export const attachProgramSignal = defineSignal<[{ programWorkflowId: string }]>('attachProgram');
/** Sent by each onboarding to its program on every change of stage or schedule. */
export const clinicReportSignal = defineSignal<[StageReport]>('clinicReport');
export const onboardingStateQuery = defineQuery<OnboardingState>('onboardingState');
export const onboardingProgressQuery = defineQuery<Progress>('onboardingProgress');

export { onboardingWorkflowId };

type Acts = ReturnType<typeof createOnboardingActivities>;
const acts = proxyActivities<Acts>({ startToCloseTimeout: '10s', retry: { initialInterval: '200ms', maximumInterval: '5s' } });

const fail = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

/** Runs one clinic's onboarding to go-live. Started by a rollout program or `POST /onboarding/{clinicId}/start`. */
export async function onboardingWorkflow(input: OnboardingInput): Promise<OnboardingState> {
  const { workflowId } = workflowInfo();
  const { clinicId, policy } = input;
  const ctx = { clinicId, workflowId };
  let programWorkflowId = input.programWorkflowId;
  const state: OnboardingState = {
    clinicId,
    stage: 'preparation',
    tasks: initialTasks(),
    blockers: [],
    incidents: [],
    equipment: { total: 0, installed: 0 },
    staff: { total: 0, certified: 0 },
    pilotRound: 0,
    pilotMetrics: null,
    awaitingDecision: false,
    decisions: [],
  };
  let begun = false;
  let changes = 0;
  let pendingDecision: DecisionRequest | null = null;
  let blockedSince: number | null = null;
  let lastReport = '';
  let shown = '';

  // One change at a time: handlers and the main loop take turns on the clinic's records.
  const lock = new HandlerLock({
    before: () => condition(() => begun),
    afterRelease: () => {
      changes++;
      return publish();
    },
  });
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => lock.runExclusive(fn);
  const task = (key: string) => state.tasks.find((t) => t.key === key)!;
  const progress = () => computeProgress(state);

  /** Keeps search attributes current and tells the program of a new stage or schedule. */
  async function publish() {
    const p = progress();
    // Only on a change: every upsert is an event in the history.
    if (`${state.stage}:${p.status}` !== shown) {
      shown = `${state.stage}:${p.status}`;
      upsertSearchAttributes([
        { key: onboardingStageKey, value: state.stage },
        { key: processStatusKey, value: p.status },
      ]);
    }
    const behind = p.status === 'overdue' || p.status === 'blocked';
    const report = `${state.stage}:${behind}`;
    if (programWorkflowId && report !== lastReport) {
      lastReport = report;
      // The program may have ended or been terminated: its dashboard is then no one's concern.
      await getExternalWorkflowHandle(programWorkflowId)
        .signal(clinicReportSignal, { clinicId, stage: state.stage, behind })
        .catch(() => undefined);
    }
  }

  const done = (key: string, by: string | null) => {
    const t = task(key);
    t.status = 'done';
    t.completedBy = by;
  };
  const requireOpenTaskOfStage = (req: CompleteTaskRequest): TaskView => {
    const t = state.tasks.find((x) => x.key === req.taskKey);
    if (!t) throw fail('NotFound', `no task ${req.taskKey}`);
    const tpl = taskTemplate(t.key)!;
    if (!mayComplete(tpl.owner, req.role)) throw fail('Forbidden', `task ${t.key} is owned by ${tpl.owner}`);
    if (t.status === 'done') return t;
    if (t.stage !== state.stage)
      throw fail('InvalidState', `task ${t.key} belongs to the ${t.stage} stage; the clinic is in ${state.stage}`);
    if (tpl.automatic) throw fail('InvalidState', `task ${t.key} completes by itself when its condition holds`);
    return t;
  };

  setHandler(onboardingStateQuery, () => state);
  setHandler(onboardingProgressQuery, progress);
  setHandler(attachProgramSignal, (s) => {
    programWorkflowId = s.programWorkflowId;
    lastReport = '';
    changes++;
  });

  setHandler(
    completeTaskUpdate,
    (req) =>
      exclusive(async () => {
        const t = requireOpenTaskOfStage(req);
        if (t.status !== 'done') {
          await acts.completeTask({ ...ctx, taskKey: t.key, by: req.by, expectedPatients: req.expectedPatients }).catch(rethrowBusiness);
          done(t.key, req.by);
        }
        return progress();
      }),
    {
      validator: (req) => {
        requireOpenTaskOfStage(req);
      },
    },
  );

  setHandler(
    reportBlockerUpdate,
    (req) =>
      exclusive(async () => {
        if (state.blockers.some((b) => b.id === req.blockerId)) return progress();
        await acts.recordBlocker({ ...ctx, blockerId: req.blockerId, stage: state.stage, description: req.description, by: req.by });
        state.blockers.push({ id: req.blockerId, stage: state.stage, description: req.description });
        blockedSince ??= Date.now();
        return progress();
      }),
    {
      validator: (_req) => {
        if (state.stage === 'live') throw fail('InvalidState', 'the clinic is live; report an incident instead');
      },
    },
  );

  setHandler(
    resolveBlockerUpdate,
    (req) =>
      exclusive(async () => {
        const blocker = state.blockers.find((b) => b.id === req.id);
        if (!blocker) return progress();
        const lastOne = state.blockers.length === 1;
        await acts.resolveBlocker({ ...ctx, blockerId: req.id, stage: state.stage, by: req.by, lastOne });
        state.blockers = state.blockers.filter((b) => b.id !== req.id);
        if (lastOne && blockedSince !== null) {
          // The pause stops the stage's clock: open deadlines move by the time it lasted.
          const paused = Date.now() - blockedSince;
          blockedSince = null;
          const moved = state.tasks.filter((t) => t.status === 'open' && t.stage === state.stage && t.deadlineAt);
          for (const t of moved) t.deadlineAt = new Date(Date.parse(t.deadlineAt!) + paused).toISOString();
          if (moved.length) await acts.setDeadlines({ ...ctx, tasks: moved.map((t) => ({ key: t.key, deadlineAt: t.deadlineAt! })) });
        }
        return progress();
      }),
    {
      validator: (req) => {
        if (!state.blockers.some((b) => b.id === req.id)) throw fail('NotFound', `no open blocker ${req.id}`);
      },
    },
  );

  setHandler(equipmentStepUpdate, (req) =>
    exclusive(async () => {
      state.equipment = await acts
        .recordEquipmentStep({ ...ctx, itemId: req.itemId, step: req.step, by: req.by, stage: state.stage })
        .catch(rethrowBusiness);
      return progress();
    }),
  );

  setHandler(recordTrainingUpdate, (req) =>
    exclusive(async () => {
      state.staff = await acts
        .recordTraining({ ...ctx, staffId: req.staffId, certified: req.certified, by: req.by, stage: state.stage })
        .catch(rethrowBusiness);
      return progress();
    }),
  );

  setHandler(
    reportIncidentUpdate,
    (req) =>
      exclusive(async () => {
        if (state.incidents.some((i) => i.id === req.incidentId)) return progress();
        await acts.recordIncident({
          ...ctx,
          incidentId: req.incidentId,
          blocking: req.blocking,
          description: req.description,
          by: req.by,
          stage: state.stage,
        });
        state.incidents.push({ id: req.incidentId, blocking: req.blocking });
        return progress();
      }),
    {
      validator: (_req) => {
        if (state.stage !== 'pilot' && state.stage !== 'live')
          throw fail('InvalidState', `incidents are reported once the clinic is bookable; it is in ${state.stage}`);
      },
    },
  );

  setHandler(
    resolveIncidentUpdate,
    (req) =>
      exclusive(async () => {
        if (!state.incidents.some((i) => i.id === req.id)) return progress();
        await acts.resolveIncident({ ...ctx, incidentId: req.id, by: req.by, stage: state.stage });
        state.incidents = state.incidents.filter((i) => i.id !== req.id);
        return progress();
      }),
    {
      validator: (req) => {
        if (!state.incidents.some((i) => i.id === req.id)) throw fail('NotFound', `no open incident ${req.id}`);
      },
    },
  );

  const checkDecision = (req: DecisionRequest) => {
    if (state.stage !== 'pilot' || !state.awaitingDecision || pendingDecision)
      throw fail('InvalidState', `no go / no-go decision is awaited (stage ${state.stage})`);
    if (req.decision === 'go') {
      const open = state.incidents.filter((i) => i.blocking).length;
      if (open > 0) throw fail('BlockingIncidentsOpen', `${open} blocking incident(s) are open; resolve them before go-live`);
      if (state.blockers.length > 0) throw fail('OnboardingBlocked', `${state.blockers.length} blocker(s) are open`);
    }
  };
  setHandler(
    decisionUpdate,
    (req) =>
      exclusive(async () => {
        checkDecision(req); // again under the lock: an incident may have been reported since the validator ran
        await acts.recordDecision({ ...ctx, decision: req.decision, reason: req.reason, by: req.by, round: state.pilotRound });
        state.decisions.push({ decision: req.decision, reason: req.reason, by: req.by });
        state.awaitingDecision = false;
        pendingDecision = req;
        if (req.decision === 'go') done('go-live-decision', req.by);
        return progress();
      }),
    { validator: checkDecision },
  );

  // Where the clinic stands (a restarted onboarding picks up its stage and finished tasks).
  const start = await acts.beginOnboarding(ctx);
  state.stage = start.stage;
  for (const c of start.completed) done(c.key, c.by);
  state.equipment = start.equipment;
  state.staff = start.staff;
  state.blockers = start.blockers;
  state.incidents = start.incidents;
  if (state.blockers.length) blockedSince = Date.now();
  upsertSearchAttributes([{ key: clinicIdKey, value: clinicId }]);
  begun = true;
  await publish();

  /** Completes tasks whose condition holds by itself: every item installed, enough staff certified. */
  const autoComplete = async () => {
    const auto: Array<[string, boolean]> = [
      ['equipment-procurement', state.equipment.installed >= state.equipment.total],
      ['staff-training', trainingComplete(state.staff, policy.certifiedShare)],
    ];
    for (const [key, holds] of auto) {
      if (holds && task(key).stage === state.stage && task(key).status === 'open') {
        await exclusive(async () => {
          await acts.completeTask({ ...ctx, taskKey: key, by: 'system' });
          done(key, 'system');
        });
      }
    }
  };

  /** Waits until `finished` holds, reminding and escalating open tasks of the stage as their times come. */
  const workUntil = async (stage: OnboardingStage, finished: () => boolean) => {
    for (;;) {
      await autoComplete();
      if (finished()) return;
      const seen = changes;
      // A blocked stage's clock stands still: no reminders or escalations until it is resolved.
      const alarms = state.blockers.length
        ? []
        : state.tasks
            .filter((t) => t.stage === stage)
            .map((t) => ({ t, alarm: nextTaskAlarm(t, policy) }))
            .filter((a): a is { t: TaskView; alarm: NonNullable<typeof a.alarm> } => a.alarm !== null)
            .sort((a, b) => a.alarm.at - b.alarm.at);
      const next = alarms[0];
      if (!next) {
        await condition(() => changes !== seen);
        continue;
      }
      if (await condition(() => changes !== seen, Math.max(1, next.alarm.at - Date.now()))) continue;
      await exclusive(async () => {
        const { t, alarm } = next;
        if (t.status !== 'open' || state.blockers.length) return;
        const level = alarm.kind === 'reminder' ? 1 : t.escalations + 1;
        await acts.taskAlarm({ ...ctx, taskKey: t.key, stage, kind: alarm.kind, level, owner: t.owner });
        if (alarm.kind === 'reminder') t.reminded = true;
        else t.escalations = level;
      });
    }
  };

  const enter = async (stage: OnboardingStage, deadlineSeconds: number | null) => {
    const deadlineAt = deadlineSeconds === null ? null : new Date(Date.now() + deadlineSeconds * 1000).toISOString();
    await exclusive(async () => {
      await acts.enterStage({ ...ctx, stage, round: state.pilotRound, deadlineAt });
      state.stage = stage;
      for (const t of state.tasks.filter((x) => x.stage === stage && x.status === 'open')) {
        t.deadlineAt = deadlineAt;
        t.reminded = false;
        t.escalations = 0;
      }
    });
  };

  const stageDone = (stage: OnboardingStage) => () =>
    state.blockers.length === 0 && state.tasks.every((t) => t.stage !== stage || t.status === 'done');

  let stage: OnboardingStage | null = state.stage;
  while (stage && stage !== 'live') {
    if (stage === 'pilot') {
      for (;;) {
        state.pilotRound++;
        if (state.pilotRound > 1) {
          await exclusive(async () => {
            await acts.reopenPilot({ ...ctx, round: state.pilotRound });
            for (const t of state.tasks.filter((x) => x.stage === 'pilot'))
              Object.assign(t, { status: 'open', completedBy: null, deadlineAt: null, reminded: false, escalations: 0 });
          });
        }
        await enter('pilot', null);
        const pilotStart = new Date(Date.now()).toISOString();
        await sleep(policy.pilotPeriodSeconds * 1000);
        await exclusive(async () => {
          state.pilotMetrics = await acts.gatherPilotMetrics({ ...ctx, since: pilotStart, round: state.pilotRound });
          done('pilot-metrics', 'system');
          const decision = task('go-live-decision');
          decision.deadlineAt = new Date(Date.now() + policy.taskDeadlineSeconds.pilot * 1000).toISOString();
          await acts.setDeadlines({ ...ctx, tasks: [{ key: decision.key, deadlineAt: decision.deadlineAt }] });
          pendingDecision = null;
          state.awaitingDecision = true;
        });
        await workUntil('pilot', () => pendingDecision !== null && state.blockers.length === 0);
        if (pendingDecision!.decision === 'go') break;
      }
    } else {
      await enter(stage, policy.taskDeadlineSeconds[stage]);
      await workUntil(stage, stageDone(stage));
    }
    stage = nextStage(stage);
  }
  await enter('live', null);
  await condition(allHandlersFinished);
  return state;
}

/** Activities' business refusals reach the caller with their own type, unwrapped. */
function rethrowBusiness(err: unknown): never {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) throw fail(err.cause.type ?? 'Unknown', err.cause.message);
  throw err;
}
