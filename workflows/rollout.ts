/**
 * The city rollout program, one workflow per program (`rollout-<programId>`): onboards the pilot
 * clinics first, waits for their go-live, then the other clinics with at most `maxConcurrent`
 * onboarding at once. Pause, resume and add a clinic while it runs. Each clinic's onboarding is a
 * child workflow that outlives the program (ParentClosePolicy ABANDON) and reports its stage by
 * signal, so the program's own history stays small; it continues as new when it grows.
 */
import {
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { onboardingWorkflowId, stageIndex } from '../domain/onboarding';
import {
  initialRolloutState,
  nextToStart,
  pilotsLive,
  rolloutDashboard,
  rolloutWorkflowId,
  running,
  type RolloutDashboard,
  type RolloutInput,
  type RolloutState,
} from '../domain/rollout';
import { attachProgramSignal, clinicReportSignal, onboardingWorkflow } from './onboarding';
import { clinicIdKey, onboardingStageKey, processStatusKey } from './search-attributes';

export const pauseProgramSignal = defineSignal<[{ by: string }]>('pauseProgram');
export const resumeProgramSignal = defineSignal<[{ by: string }]>('resumeProgram');
export const addClinicUpdate = defineUpdate<RolloutDashboard, [{ clinicId: string; by: string }]>('addClinic');
export const rolloutDashboardQuery = defineQuery<RolloutDashboard>('rolloutDashboard');
export const rolloutStateQuery = defineQuery<RolloutState>('rolloutState');

export { rolloutWorkflowId };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Runs a city's rollout to the last clinic's go-live. Started by `POST /rollout-programs` (or the demo at worker start). */
export async function rolloutProgramWorkflow(input: RolloutInput): Promise<RolloutDashboard> {
  const { workflowId } = workflowInfo();
  const state: RolloutState = input.state ?? initialRolloutState(input);
  const { policy } = input;
  let changes = 0;
  let shown = '';
  const publish = () => {
    const status = state.paused ? 'paused' : state.phase;
    if (status !== shown) upsertSearchAttributes([{ key: processStatusKey, value: (shown = status) }]);
  };

  setHandler(rolloutDashboardQuery, () => rolloutDashboard(state));
  setHandler(rolloutStateQuery, () => state);
  setHandler(clinicReportSignal, (r) => {
    const c = state.clinics[r.clinicId];
    if (!c) return;
    // Reports may cross: a stage only moves forward (a no-go keeps the clinic in pilot).
    if (c.stage === 'queued' || stageIndex(r.stage) >= stageIndex(c.stage)) c.stage = r.stage;
    c.behind = r.behind;
    changes++;
  });
  setHandler(pauseProgramSignal, () => {
    state.paused = true;
    changes++;
  });
  setHandler(resumeProgramSignal, () => {
    state.paused = false;
    changes++;
  });
  setHandler(
    addClinicUpdate,
    (req) => {
      if (!state.clinics[req.clinicId]) {
        state.clinics[req.clinicId] = { stage: 'queued', behind: false, pilot: false };
        state.queue.push(req.clinicId);
        changes++;
      }
      return rolloutDashboard(state);
    },
    {
      validator: (req) => {
        if (!UUID.test(req.clinicId)) throw new Error('clinicId must be a uuid');
        if (state.phase === 'done') throw new Error('the program has finished');
      },
    },
  );

  const startOnboarding = async (clinicId: string) => {
    try {
      await startChild(onboardingWorkflow, {
        workflowId: onboardingWorkflowId(clinicId),
        args: [{ clinicId, policy: policy.onboarding, programWorkflowId: workflowId }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [
          { key: clinicIdKey, value: clinicId },
          { key: onboardingStageKey, value: 'preparation' },
          { key: processStatusKey, value: 'on-track' },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // Already onboarding (started on its own, or by this program before a continue-as-new): ask it to report here.
      await getExternalWorkflowHandle(onboardingWorkflowId(clinicId))
        .signal(attachProgramSignal, { programWorkflowId: workflowId })
        .catch(() => undefined);
    }
    const c = state.clinics[clinicId]!;
    if (c.stage === 'queued') c.stage = 'preparation';
    state.started++;
  };

  publish();
  for (;;) {
    if (state.phase === 'pilots') {
      for (const [id, c] of Object.entries(state.clinics)) if (c.pilot && c.stage === 'queued') await startOnboarding(id);
      if (pilotsLive(state)) {
        state.phase = 'waves';
        publish();
        continue;
      }
    } else if (state.phase === 'waves') {
      for (const id of nextToStart(state, policy.maxConcurrent)) {
        state.queue.shift();
        await startOnboarding(id);
      }
      if (state.queue.length === 0 && running(state).length === 0) {
        state.phase = 'done';
        publish();
        break;
      }
    } else break;

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= policy.continueAsNewEvents) {
      // Let accepted updates answer first; signals still in flight are delivered to the next run.
      await condition(allHandlersFinished);
      await continueAsNew<typeof rolloutProgramWorkflow>({
        ...input,
        pilotClinicIds: [],
        clinicIds: [],
        state: { ...state, runs: state.runs + 1 },
      });
    }
    const seen = changes;
    await condition(() => changes !== seen);
    publish();
  }
  await condition(allHandlersFinished);
  return rolloutDashboard(state);
}
