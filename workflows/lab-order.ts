/**
 * One lab order from order to close (`lab-order-<orderId>`): ordered → specimen collected →
 * received → results posted (validated Update) → interpreted → final → CDS assessed (the cds
 * worker scores, on its own task queue) → acknowledged by the ordering or covering doctor, with a
 * read-back for critical values and timed escalation → closed once the amendment window passes.
 * Cancel before collection; a rejected specimen goes back to collection up to the policy's limit.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  defineQuery,
  defineUpdate,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { createLabOrderActivities } from '../activities/lab-order';
import type { createCdsActivities, ModelScore } from '../activities/cds';
import { isCritical, interpretValue, pickRange, readBackMatches, toCatalogueValue, ageInYears } from '../domain/interpretation';
import {
  labOrderWorkflowId,
  turnaroundDeadline,
  type AcknowledgeRequest,
  type CdsAwaitAnswer,
  type CurrentResult,
  type LabOrderInput,
  type LabOrderState,
  type LabOrderStatus,
  type PostResultsAnswer,
  type PostResultsRequest,
  type ReadBack,
  type RejectionReason,
} from '../domain/lab-order';
import { CDS_TASK_QUEUE } from '../domain/task-queues';
import { overdueKey, processStatusKey } from './search-attributes';
import { HandlerLock } from './handler-lock';

export { labOrderWorkflowId };

export const registerLabOrderUpdate = defineUpdate<LabOrderState, []>('registerLabOrder');
export const collectSpecimenUpdate = defineUpdate<LabOrderState, [{ barcode: string; by: string }]>('collectSpecimen');
export const receiveSpecimenUpdate = defineUpdate<LabOrderState, [{ by: string }]>('receiveSpecimen');
export const rejectSpecimenUpdate = defineUpdate<LabOrderState, [{ reason: RejectionReason; by: string }]>('rejectSpecimen');
export const cancelLabOrderUpdate = defineUpdate<LabOrderState, [{ by: string; reason: string }]>('cancelLabOrder');
export const postResultsUpdate = defineUpdate<PostResultsAnswer, [PostResultsRequest]>('postResults');
export const acknowledgeUpdate = defineUpdate<LabOrderState, [AcknowledgeRequest]>('acknowledgeResults');
/** Waits inside the workflow (no polling) until this round's CDS card is stored, or the wait runs out. */
export const awaitCdsUpdate = defineUpdate<CdsAwaitAnswer, [{ waitMs: number }]>('awaitCds');
export const labOrderStatusQuery = defineQuery<LabOrderState>('labOrderStatus');

/** Refusal types of posted results (activities/errors.ts FailureType), by the domain's codes. */
export const RESULT_REFUSALS = {
  unknown_test: 'UnknownTest',
  wrong_unit: 'WrongUnit',
  not_finite: 'NotFinite',
  impossible_value: 'ImpossibleValue',
} as const;

type LabActivities = ReturnType<typeof createLabOrderActivities>;
type CdsActivities = ReturnType<typeof createCdsActivities>;
const RETRY: RetryPolicy = { initialInterval: '200ms', maximumInterval: '10s' };
const acts = proxyActivities<LabActivities>({ startToCloseTimeout: '15s', retry: RETRY });

const refuse = (type: string, message: string, details?: unknown) =>
  ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? undefined : [details] });
const invalidState = (message: string) => refuse('InvalidState', message);

/** Runs one lab order. Started by `POST /lab-orders` with the registerLabOrder Update (update-with-start). */
export async function labOrderWorkflow(input: LabOrderInput): Promise<LabOrderState> {
  const { workflowId } = workflowInfo();
  const orderId = input.orderId;
  const policy = input.policy;
  // The CDS worker being down only delays: scoring retries until its schedule-to-close runs out.
  const cds = proxyActivities<CdsActivities>({
    taskQueue: input.cdsTaskQueue ?? CDS_TASK_QUEUE,
    startToCloseTimeout: '10s',
    scheduleToCloseTimeout: `${policy.cdsScheduleToCloseSeconds}s`,
    retry: { initialInterval: '1s', maximumInterval: '30s', backoffCoefficient: 2 },
  });
  const state: LabOrderState = {
    status: 'ordered',
    deadlineAt: input.deadlineAt ?? turnaroundDeadline(input.priority, input.orderedAt, policy),
    overdue: false,
    specimen: null,
    rejections: [],
    results: [],
    finalAt: null,
    round: 0,
    criticalPending: false,
    escalations: [],
    acknowledgedAt: null,
    cds: null,
    cancelReason: null,
  };
  let registered = false;
  let ackRound = 0;
  let seq = 0;
  const lock = new HandlerLock();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => lock.runExclusive(fn);
  const setStatus = (status: LabOrderStatus, processStatus: string = status) => {
    state.status = status;
    upsertSearchAttributes([{ key: processStatusKey, value: processStatus }]);
  };
  const requireStatus = (allowed: LabOrderStatus[], action: string) => {
    if (!allowed.includes(state.status)) throw invalidState(`cannot ${action} an order that is ${state.status}`);
  };
  const tests = new Map(input.catalogue.filter((t) => input.tests.includes(t.loinc)).map((t) => [t.loinc, t]));
  const ageYears = ageInYears(input.patientBirthDate, input.orderedAt);

  setHandler(labOrderStatusQuery, () => state);

  setHandler(registerLabOrderUpdate, () =>
    exclusive(async () => {
      if (!registered) {
        await acts.recordLabOrder({ orderId, workflowId, input, deadlineAt: state.deadlineAt });
        registered = true;
      }
      return state;
    }),
  );

  setHandler(
    collectSpecimenUpdate,
    (req) =>
      exclusive(async () => {
        if (state.status === 'collected' && state.specimen?.barcode === req.barcode) return state;
        requireStatus(['ordered'], 'collect a specimen for');
        const at = await acts.recordLabStep({
          orderId,
          key: `${workflowId}:collected:${++seq}`,
          status: 'collected',
          actor: req.by,
          barcode: req.barcode,
          details: { barcode: req.barcode, attempt: state.rejections.length + 1 },
        });
        state.specimen = { barcode: req.barcode, collectedBy: req.by, collectedAt: at };
        setStatus('collected');
        return state;
      }),
    {
      validator: (req) => {
        if (!/^[A-Za-z0-9-]{4,40}$/.test(req.barcode ?? '')) throw refuse('InvalidInput', 'barcode must be 4–40 letters, digits or dashes');
        if (state.status !== 'ordered' && !(state.status === 'collected' && state.specimen?.barcode === req.barcode))
          throw invalidState(`cannot collect a specimen for an order that is ${state.status}`);
      },
    },
  );

  setHandler(
    receiveSpecimenUpdate,
    (req) =>
      exclusive(async () => {
        if (state.status === 'received') return state;
        requireStatus(['collected'], 'receive the specimen of');
        await acts.recordLabStep({ orderId, key: `${workflowId}:received:${++seq}`, status: 'received', actor: req.by, details: {} });
        setStatus('received');
        return state;
      }),
    {
      validator: (_req) => {
        if (!['collected', 'received'].includes(state.status))
          throw invalidState(`cannot receive the specimen of an order that is ${state.status}`);
      },
    },
  );

  setHandler(
    rejectSpecimenUpdate,
    (req) =>
      exclusive(async () => {
        requireStatus(['collected', 'received'], 'reject the specimen of');
        const attempt = state.rejections.length + 1;
        const giveUp = attempt > policy.maxRecollections;
        const at = await acts.recordSpecimenRejection({
          orderId,
          workflowId,
          attempt,
          reason: req.reason,
          by: req.by,
          barcode: state.specimen?.barcode ?? null,
          cancel: giveUp,
        });
        state.rejections.push({ reason: req.reason, by: req.by, at });
        state.specimen = null;
        if (giveUp) {
          state.cancelReason = `specimen rejected ${attempt} times (limit ${policy.maxRecollections} recollections)`;
          setStatus('cancelled');
        } else {
          setStatus('ordered', 'recollection-needed');
        }
        return state;
      }),
    {
      validator: (req) => {
        if (!['haemolysed', 'clotted', 'wrong-tube', 'unlabelled'].includes(req.reason))
          throw refuse('InvalidInput', 'reason must be haemolysed, clotted, wrong-tube or unlabelled');
        if (!['collected', 'received'].includes(state.status))
          throw invalidState(`cannot reject the specimen of an order that is ${state.status}`);
      },
    },
  );

  setHandler(
    cancelLabOrderUpdate,
    (req) =>
      exclusive(async () => {
        if (state.status === 'cancelled') return state;
        requireStatus(['ordered'], 'cancel');
        await acts.recordLabStep({
          orderId,
          key: `${workflowId}:cancelled`,
          status: 'cancelled',
          actor: req.by,
          cancelReason: req.reason,
          details: {},
        });
        state.cancelReason = req.reason;
        setStatus('cancelled');
        return state;
      }),
    {
      validator: (_req) => {
        if (!['ordered', 'cancelled'].includes(state.status))
          throw invalidState(`cannot cancel an order that is ${state.status}: the specimen is already collected`);
      },
    },
  );

  setHandler(
    postResultsUpdate,
    (req) =>
      exclusive(async () => {
        requireStatus(['received', 'resulted', 'final', 'acknowledged'], 'post results for');
        const amending = state.status === 'final' || state.status === 'acknowledged';
        const versions: CurrentResult[] = [];
        let duplicates = 0;
        for (const entry of req.results) {
          const test = tests.get(entry.loinc)!;
          const converted = toCatalogueValue(test, entry.loinc, entry.value, entry.unit) as { value: number };
          const current = state.results.find((r) => r.loinc === entry.loinc);
          const posted = entry.status ?? 'final';
          const same = current && current.value === converted.value && (current.status === 'preliminary') === (posted === 'preliminary');
          if (same || versions.some((v) => v.loinc === entry.loinc && v.value === converted.value)) {
            duplicates++;
            continue;
          }
          if (amending && posted === 'preliminary')
            throw refuse('InvalidInput', 'a result that is final can only be corrected with a final value');
          const range = pickRange(test.ranges, input.patientSex, ageYears);
          versions.push({
            loinc: entry.loinc,
            value: converted.value,
            unit: test.unit,
            reportedValue: entry.value as number,
            reportedUnit: entry.unit,
            flag: interpretValue(converted.value, range),
            version: (current?.version ?? 0) + 1 + versions.filter((v) => v.loinc === entry.loinc).length,
            status:
              current && current.status !== 'preliminary'
                ? posted === 'corrected'
                  ? 'corrected'
                  : 'amended'
                : posted === 'preliminary'
                  ? 'preliminary'
                  : 'final',
            refLow: range?.refLow ?? null,
            refHigh: range?.refHigh ?? null,
          });
        }
        if (!versions.length) return { status: state.status, recorded: 0, duplicates, results: state.results };
        const merged = [
          ...state.results.filter((r) => !versions.some((v) => v.loinc === r.loinc)),
          ...versions.filter((v, i, all) => !all.slice(i + 1).some((x) => x.loinc === v.loinc)),
        ];
        const allFinal = input.tests.every((loinc) => merged.some((r) => r.loinc === loinc && r.status !== 'preliminary'));
        const round = allFinal ? state.round + 1 : state.round;
        const critical = allFinal && merged.some((r) => isCritical(r.flag));
        const written = await acts.recordResults({
          orderId,
          workflowId,
          by: req.by,
          source: req.source,
          versions,
          final: allFinal,
          round,
          critical,
        });
        state.results = merged.sort((a, b) => input.tests.indexOf(a.loinc) - input.tests.indexOf(b.loinc));
        if (allFinal) {
          state.round = round;
          state.finalAt = written.finalAt;
          state.acknowledgedAt = null;
          state.criticalPending = critical;
          setStatus('final', critical ? 'critical-unacknowledged' : 'final');
        } else {
          setStatus('resulted');
        }
        return { status: state.status, recorded: versions.length, duplicates, results: state.results };
      }),
    {
      validator: (req) => {
        if (!['received', 'resulted', 'final', 'acknowledged'].includes(state.status))
          throw invalidState(`cannot post results for an order that is ${state.status}`);
        if (!Array.isArray(req.results) || req.results.length === 0) throw refuse('InvalidInput', 'no results posted');
        for (const [index, entry] of req.results.entries()) {
          const test = tests.get(entry.loinc);
          const checked = toCatalogueValue(test, entry.loinc, entry.value, entry.unit);
          if ('code' in checked)
            throw refuse(RESULT_REFUSALS[checked.code], checked.message, {
              index,
              loinc: String(entry.loinc).slice(0, 20),
              code: checked.code,
            });
        }
      },
    },
  );

  setHandler(
    acknowledgeUpdate,
    (req) =>
      exclusive(async () => {
        if (state.status === 'acknowledged' && ackRound === state.round) return state;
        requireStatus(['final'], 'acknowledge');
        const critical = state.results.filter((r) => isCritical(r.flag));
        const at = await acts.recordAcknowledgement({
          orderId,
          workflowId,
          round: state.round,
          practitionerId: req.practitionerId,
          readBack: req.readBack,
          critical: critical.length > 0,
          finalAt: state.finalAt!,
        });
        ackRound = state.round;
        state.acknowledgedAt = at;
        state.criticalPending = false;
        setStatus('acknowledged');
        return state;
      }),
    {
      validator: (req) => {
        if (state.status === 'acknowledged' && ackRound === state.round) return;
        if (state.status !== 'final') throw invalidState(`cannot acknowledge an order that is ${state.status}`);
        // The ordering doctor, the covering doctor, or a doctor this order's critical value was escalated to.
        const told = state.escalations.some((e) => e.recipient !== null && e.recipient === req.practitionerId);
        if (req.practitionerId !== input.orderingPractitionerId && req.practitionerId !== input.coveringPractitionerId && !told) {
          throw refuse(
            'NotYourOrder',
            'only the ordering or covering doctor, or one a critical value was escalated to, acknowledges these results',
          );
        }
        for (const r of state.results.filter((x) => isCritical(x.flag))) {
          const said = (req.readBack ?? []).find((b: ReadBack) => b.loinc === r.loinc);
          if (!said || !readBackMatches(r, said))
            throw refuse('ReadBackMismatch', `the read-back of critical result ${r.loinc} does not match the value and unit reported`, {
              loinc: r.loinc,
            });
        }
      },
    },
  );

  setHandler(
    awaitCdsUpdate,
    async ({ waitMs }) => {
      const ready = () => state.cds !== null && state.cds.round >= Math.max(1, state.round);
      if (!ready()) await condition(ready, Math.max(1, waitMs));
      return ready()
        ? { status: 'ready', round: state.cds!.round, cards: state.cds!.cards }
        : { status: 'pending', round: state.round, cards: [] };
    },
    {
      validator: ({ waitMs }) => {
        if (typeof waitMs !== 'number' || !(waitMs >= 0 && waitMs <= 60_000)) throw refuse('InvalidInput', 'wait must be 0–60 s');
      },
    },
  );

  // The API registers the order with the start; a start without it ends here.
  if (!(await condition(() => registered, '5 minutes'))) return state;

  // Turnaround: not final by the deadline → flagged overdue (column and search attribute), still running.
  const msLeft = Math.max(1, Date.parse(state.deadlineAt) - Date.now());
  void (async () => {
    if (await condition(() => state.finalAt !== null || state.status === 'cancelled', msLeft)) return;
    await acts.markLabOrderOverdue({ orderId });
    state.overdue = true;
    upsertSearchAttributes([{ key: overdueKey, value: 'true' }]);
  })();

  await condition(() => state.status === 'final' || state.status === 'cancelled');
  if (state.status === 'cancelled') {
    await condition(allHandlersFinished);
    return state;
  }

  const cdsRuns: Array<Promise<void>> = [];
  const runCds = async (round: number) => {
    const gathered = await acts.gatherLabFeatures({ orderId, patientId: input.patientId });
    let scored: ModelScore | null = null;
    let failure: string | null = null;
    if (gathered.missing.length === 0) {
      try {
        scored = await cds.scoreModel({ modelId: gathered.modelId, features: gathered.features });
      } catch (err) {
        failure =
          err instanceof ActivityFailure && err.cause instanceof ApplicationFailure
            ? (err.cause.type ?? 'refused')
            : 'the CDS worker did not answer in time';
      }
    }
    const view = await acts.storeLabCds({ orderId, workflowId, round, patientId: input.patientId, gathered, scored, failure });
    if (!state.cds || view.round >= state.cds.round) state.cds = view;
  };

  outer: for (;;) {
    for (;;) {
      const round = state.round;
      cdsRuns.push(runCds(round));
      const moved = () => state.round !== round;
      const acked = () => ackRound === round;
      if (state.criticalPending) {
        // CLSI GP47: the ordering doctor at once, the covering doctor at ~15 min, the head before 60 min.
        const steps: Array<{ step: 'ordering' | 'covering' | 'head'; recipient: string | null; afterSeconds: number }> = [
          { step: 'ordering', recipient: input.orderingPractitionerId, afterSeconds: 0 },
          { step: 'covering', recipient: input.coveringPractitionerId, afterSeconds: policy.escalateCoveringSeconds },
          { step: 'head', recipient: input.headPractitionerId, afterSeconds: policy.escalateHeadSeconds },
        ];
        let waited = 0;
        for (const s of steps) {
          if (s.afterSeconds > waited && (await condition(() => acked() || moved(), (s.afterSeconds - waited) * 1000))) break;
          if (acked() || moved()) break;
          waited = s.afterSeconds;
          const step = { orderId, workflowId, round, step: s.step, practitionerId: s.recipient };
          // Since 'critical-recipient-named': the step names who was told (the on-call roster's doctor), who may then acknowledge.
          if (patched('critical-recipient-named')) {
            const told = await acts.notifyCriticalNamed(step);
            state.escalations.push({ step: s.step, recipient: told.practitionerId ?? s.recipient, at: told.at });
          } else {
            const at = await acts.notifyCritical(step);
            state.escalations.push({ step: s.step, recipient: s.recipient, at });
          }
        }
      }
      await condition(() => acked() || moved());
      if (moved()) continue;
      if (await condition(moved, policy.amendWindowSeconds * 1000)) continue;
      break;
    }
    // The order closes with its card: a CDS worker that is down only delays this.
    await Promise.all(cdsRuns);
    // An amendment that came in while the card was awaited opens a new round instead.
    const closed = await exclusive(async () => {
      if (ackRound !== state.round) return false;
      await acts.recordLabStep({ orderId, key: `${workflowId}:closed`, status: 'closed', actor: 'system', details: {} });
      setStatus('closed');
      return true;
    });
    if (closed) break outer;
  }
  await condition(allHandlersFinished);
  return state;
}
