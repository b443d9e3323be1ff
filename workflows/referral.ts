/**
 * A referral to a specialist, one workflow per referral (`referral-<id>`): created → offered
 * (matching free slots before the deadline, recorded) → booked (a child booking process, or one the
 * registrar made with `referralId`) → attended (the booking's check-in) → reported (the specialist's
 * Update) → acknowledged by the referring doctor → closed. Unbooked at the policy share of the wait,
 * it goes to the top of the registrar queue; unbooked at the deadline, to the head of department,
 * flagged breached. An unacknowledged report is reminded, then escalated. Validity ends it.
 *
 * One transition at a time: Updates and the booking's signals join one queue that the main loop
 * works through, so no handler ever races the loop.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  defineQuery,
  defineUpdate,
  getExternalWorkflowHandle,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { createBookingActivities } from '../activities/booking';
import type { createReferralActivities, StepInput } from '../activities/referral';
import { bookingWorkflowId, type AppointmentView } from '../domain/booking';
import {
  CANCELLABLE,
  ICD10,
  REFERRAL_OFFER_LIMIT,
  escalationAt,
  referralWorkflowId,
  type AcknowledgeRequest,
  type BookReferralRequest,
  type CancelReferralRequest,
  type ReferralInput,
  type ReferralState,
  type ReferralStatus,
  type ReportInput,
} from '../domain/referral';
import { bookingChangedSignal, bookingWorkflow, cancelRequestSignal } from './booking';
import { breachedKey, clinicIdKey, deadlineAtKey, patientIdKey, processStatusKey } from './search-attributes';

export { referralWorkflowId };
export const bookReferralUpdate = defineUpdate<AppointmentView, [BookReferralRequest]>('bookReferral');
export const postReportUpdate = defineUpdate<ReferralState, [ReportInput]>('postReport');
export const acknowledgeReportUpdate = defineUpdate<ReferralState, [AcknowledgeRequest]>('acknowledgeReport');
export const cancelReferralUpdate = defineUpdate<ReferralState, [CancelReferralRequest]>('cancelReferral');
export const referralStatusQuery = defineQuery<ReferralState>('referralStatus');

type Acts = ReturnType<typeof createReferralActivities> & ReturnType<typeof createBookingActivities>;
const acts = proxyActivities<Acts>({ startToCloseTimeout: '10s', retry: { initialInterval: '200ms', maximumInterval: '5s' } });
// The registrar waits on a booking: a short local transaction, given up after 30 s so the caller is answered.
const interactive = proxyLocalActivities<Acts>({
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', maximumInterval: '5s' },
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TERMINAL: ReferralStatus[] = ['closed', 'cancelled', 'expired'];

type Command =
  | { kind: 'book'; id: number; req: BookReferralRequest }
  | { kind: 'report'; id: number; req: ReportInput }
  | { kind: 'acknowledge'; id: number; req: AcknowledgeRequest }
  | { kind: 'cancel'; id: number; req: CancelReferralRequest }
  | { kind: 'booking'; id: number; view: AppointmentView };
type Answer = { ok: unknown } | { err: unknown };
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type NewCommand = WithoutId<Command>;

const refusal = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

/** Runs one referral from creation to closed, cancelled or expired. Started by `POST /referrals` (and the demo seed). */
export async function referralWorkflow(input: ReferralInput): Promise<ReferralState> {
  const { workflowId } = workflowInfo();
  const state: ReferralState = {
    status: 'created',
    deadlineAt: input.deadlineAt,
    escalateAt: escalationAt(input.createdAt, input.deadlineAt, input.policy.escalationShare),
    validUntil: input.validUntil,
    breached: false,
    escalationLevel: 0,
    appointmentId: null,
    appointmentPractitionerId: null,
    offered: [],
    noShows: 0,
    reportedAt: null,
    acknowledgeLevel: 0,
  };
  const queue: Command[] = [];
  const answers = new Map<number, Answer>();
  let seq = 0;
  let round = 0;
  const ask = async <T>(cmd: NewCommand): Promise<T> => {
    const id = ++seq;
    queue.push({ ...cmd, id } as Command);
    await condition(() => answers.has(id));
    const a = answers.get(id)!;
    answers.delete(id);
    if ('err' in a) throw a.err;
    return a.ok as T;
  };
  const searchAttributes = () =>
    upsertSearchAttributes([
      { key: processStatusKey, value: state.status },
      { key: breachedKey, value: state.breached },
      { key: deadlineAtKey, value: new Date(state.deadlineAt) },
      { key: clinicIdKey, value: input.clinicId },
      { key: patientIdKey, value: input.patientId },
    ]);
  const step = async (s: Omit<StepInput, 'referralId' | 'workflowId'>) => {
    await acts.recordReferralStep({ referralId: input.referralId, workflowId, ...s });
    if (s.status) state.status = s.status;
    searchAttributes();
  };
  const offer = async () => {
    state.offered = await acts.offerSlots({
      referralId: input.referralId,
      workflowId,
      specialty: input.specialty,
      targetPractitionerId: input.targetPractitionerId,
      deadlineAt: input.deadlineAt,
      validUntil: input.validUntil,
      round: ++round,
      limit: REFERRAL_OFFER_LIMIT,
    });
    state.status = 'offered';
    searchAttributes();
  };
  const markBooked = async (view: AppointmentView) => {
    state.appointmentId = view.appointmentId;
    state.appointmentPractitionerId = view.practitionerId;
    await step({
      step: 'booked',
      key: `booked:${view.appointmentId}`,
      actor: 'system',
      status: 'booked',
      details: { appointmentId: view.appointmentId, withinDeadline: Date.now() <= Date.parse(state.deadlineAt) },
      set: { appointmentId: view.appointmentId, booked: true },
    });
  };
  const dropBooking = () => {
    state.appointmentId = null;
    state.appointmentPractitionerId = null;
  };

  const requireStatus = (allowed: readonly ReferralStatus[], action: string) => {
    if (!allowed.includes(state.status)) throw refusal('InvalidState', `cannot ${action} a referral that is ${state.status}`);
  };

  async function book(req: BookReferralRequest): Promise<AppointmentView> {
    requireStatus(['offered'], 'book');
    if (state.appointmentId) throw refusal('InvalidState', 'this referral already has a booking in progress');
    const { clinicId, policy } = await acts.bookingPolicyForSlot({ slotId: req.slotId });
    const appointmentId = uuid4();
    const bookingId = bookingWorkflowId(appointmentId);
    await interactive.holdSlot({
      appointmentId,
      workflowId: bookingId,
      patientId: input.patientId,
      slotId: req.slotId,
      bookedBy: req.by,
      policy,
    });
    const booked = await interactive.confirmAppointment({ appointmentId, workflowId: bookingId, by: req.by });
    // The booking keeps its own timers (reminder, check-in, no-show) and outlives the referral.
    await startChild(bookingWorkflow, {
      workflowId: bookingId,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [{ appointmentId, patientId: input.patientId, clinicId, policy, offered: booked, referralWorkflowId: workflowId }],
      typedSearchAttributes: [
        { key: clinicIdKey, value: clinicId },
        { key: patientIdKey, value: input.patientId },
        { key: processStatusKey, value: 'booked' },
      ],
    });
    await markBooked(booked);
    return booked;
  }

  /** What the booking process told us about its appointment. */
  async function bookingChanged(view: AppointmentView): Promise<void> {
    if (view.appointmentId !== state.appointmentId) {
      // A booking made through the booking API for this referral: adopted while nothing else is.
      if (state.appointmentId !== null || state.status !== 'offered' || !['held', 'offered', 'booked'].includes(view.status)) return;
      state.appointmentId = view.appointmentId;
      state.appointmentPractitionerId = view.practitionerId;
      await step({
        step: 'booking-adopted',
        key: `adopted:${view.appointmentId}`,
        actor: 'system',
        details: { appointmentId: view.appointmentId },
      });
    }
    if (view.status === 'booked' && state.status === 'offered') return markBooked(view);
    if ((view.status === 'arrived' || view.status === 'fulfilled') && state.status === 'booked') {
      return step({
        step: 'attended',
        key: 'attended',
        actor: 'system',
        status: 'attended',
        details: { appointmentId: view.appointmentId },
      });
    }
    if (view.status === 'noshow' && state.status === 'booked') {
      state.noShows++;
      dropBooking();
      if (state.noShows >= input.policy.noShowLimit) {
        await step({
          step: 'no-show',
          key: `no-show:${view.appointmentId}`,
          actor: 'system',
          details: { appointmentId: view.appointmentId, noShows: state.noShows },
          set: { noShows: state.noShows },
        });
        return step({
          step: 'cancelled',
          key: 'cancelled',
          actor: 'system',
          status: 'cancelled',
          details: { reason: 'no-show limit reached' },
          set: { cancelReason: 'no-show limit reached', appointmentId: null, closed: true },
        });
      }
      await step({
        step: 'no-show',
        key: `no-show:${view.appointmentId}`,
        actor: 'system',
        status: 'offered',
        details: { appointmentId: view.appointmentId, noShows: state.noShows },
        set: { noShows: state.noShows, appointmentId: null },
      });
      return offer();
    }
    if (view.status === 'cancelled' || view.status === 'expired') {
      const wasBooked = state.status === 'booked';
      dropBooking();
      if (wasBooked) {
        await step({
          step: 'booking-cancelled',
          key: `booking-cancelled:${view.appointmentId}`,
          actor: 'system',
          status: 'offered',
          details: { appointmentId: view.appointmentId },
          set: { appointmentId: null },
        });
        return offer();
      }
    }
  }

  async function report(req: ReportInput): Promise<ReferralState> {
    if (state.status === 'reported' || state.status === 'closed') return state; // a repeat: recorded once
    requireStatus(['attended'], 'report on');
    await acts.recordReport({ referralId: input.referralId, workflowId, report: req });
    state.status = 'reported';
    state.reportedAt = new Date(Date.now()).toISOString();
    searchAttributes();
    return state;
  }

  async function acknowledge(req: AcknowledgeRequest): Promise<ReferralState> {
    requireStatus(['reported'], 'acknowledge');
    await step({ step: 'acknowledged', key: 'acknowledged', actor: req.by, set: { acknowledgedBy: req.by } });
    await step({ step: 'closed', key: 'closed', actor: 'system', status: 'closed', set: { closed: true } });
    return state;
  }

  async function cancel(req: CancelReferralRequest): Promise<ReferralState> {
    requireStatus(CANCELLABLE, 'cancel');
    // The booking process releases the slot (and offers it to the waitlist); its answer comes back as a signal we no longer need.
    if (state.appointmentId)
      await getExternalWorkflowHandle(bookingWorkflowId(state.appointmentId))
        .signal(cancelRequestSignal, { by: req.by, reason: 'referral cancelled' })
        .catch(() => undefined);
    await step({
      step: 'cancelled',
      key: 'cancelled',
      actor: req.by,
      status: 'cancelled',
      details: { reason: req.reason, appointmentId: state.appointmentId },
      set: { cancelReason: req.reason, closed: true },
    });
    return state;
  }

  async function run(cmd: Command): Promise<void> {
    try {
      const ok =
        cmd.kind === 'book'
          ? await book(cmd.req)
          : cmd.kind === 'report'
            ? await report(cmd.req)
            : cmd.kind === 'acknowledge'
              ? await acknowledge(cmd.req)
              : cmd.kind === 'cancel'
                ? await cancel(cmd.req)
                : await bookingChanged(cmd.view);
      answers.set(cmd.id, { ok });
    } catch (err) {
      if (cmd.kind === 'booking') throw err;
      answers.set(cmd.id, { err: businessFailure(err) });
    }
  }

  setHandler(referralStatusQuery, () => state);
  setHandler(bookingChangedSignal, (view) => {
    queue.push({ kind: 'booking', id: ++seq, view });
  });
  const notOver = () => {
    if (TERMINAL.includes(state.status)) throw new Error(`the referral is ${state.status}`);
  };
  setHandler(bookReferralUpdate, (req) => ask<AppointmentView>({ kind: 'book', req }), {
    validator: (req) => {
      notOver();
      if (!UUID.test(req.slotId)) throw new Error('slotId must be a uuid');
      if (state.status !== 'offered' && state.status !== 'created') throw new Error(`cannot book a referral that is ${state.status}`);
    },
  });
  setHandler(postReportUpdate, (req) => ask<ReferralState>({ kind: 'report', req }), {
    validator: (req) => {
      if (req.patientId !== input.patientId) throw refusal('WrongPatient', "this report is for another patient than the referral's");
      if (!state.appointmentPractitionerId || req.practitionerId !== state.appointmentPractitionerId)
        throw refusal('WrongPractitioner', 'only the specialist who saw the patient may post the report');
      if (!req.conclusion.trim() || req.icd10.length === 0 || !req.icd10.every((c: string) => ICD10.test(c)))
        throw refusal('InvalidInput', 'a report needs a conclusion and ICD-10 codes of the right shape');
      // 'booked' too: the check-in may be recorded but not yet applied here; the queue decides in turn.
      if (!['booked', 'attended', 'reported', 'closed'].includes(state.status))
        throw new Error(`cannot report on a referral that is ${state.status}`);
    },
  });
  setHandler(acknowledgeReportUpdate, (req) => ask<ReferralState>({ kind: 'acknowledge', req }), {
    validator: (req) => {
      if (req.practitionerId !== input.referringPractitionerId)
        throw refusal('WrongPractitioner', 'only the referring practitioner may acknowledge the report');
      if (state.status !== 'reported') throw new Error(`cannot acknowledge a referral that is ${state.status}`);
    },
  });
  setHandler(cancelReferralUpdate, (req) => ask<ReferralState>({ kind: 'cancel', req }), {
    validator: (req) => {
      if (!req.reason.trim()) throw refusal('InvalidInput', 'a cancellation needs a reason');
      if (!CANCELLABLE.includes(state.status)) throw new Error(`cannot cancel a referral that is ${state.status}`);
    },
  });

  searchAttributes();
  await step({
    step: 'process-started',
    key: 'started',
    actor: 'system',
    details: { deadlineAt: state.deadlineAt, escalateAt: state.escalateAt },
  });
  await offer();

  /** The next timer of the current step: escalation, breach and expiry while unbooked; reminders while the report waits. */
  const nextTimer = (): { at: number; fire: () => Promise<void> } | null => {
    const timers: Array<{ at: number; fire: () => Promise<void> }> = [];
    if (state.status === 'offered' && !state.appointmentId) {
      if (state.escalationLevel < 1)
        timers.push({
          at: Date.parse(state.escalateAt),
          fire: async () => {
            state.escalationLevel = 1;
            await step({
              step: 'escalated-registrar-queue',
              key: 'escalated:1',
              actor: 'system',
              details: { share: input.policy.escalationShare },
              set: { escalationLevel: 1 },
            });
          },
        });
      if (!state.breached)
        timers.push({
          at: Date.parse(state.deadlineAt),
          fire: async () => {
            state.breached = true;
            state.escalationLevel = 2;
            await step({
              step: 'breached-escalated-head-of-department',
              key: 'escalated:2',
              actor: 'system',
              details: { deadlineAt: state.deadlineAt },
              set: { escalationLevel: 2, breached: true },
            });
          },
        });
      timers.push({
        at: Date.parse(state.validUntil),
        fire: () =>
          step({
            step: 'expired',
            key: 'expired',
            actor: 'system',
            status: 'expired',
            details: { validUntil: state.validUntil },
            set: { closed: true },
          }),
      });
    }
    if (state.status === 'reported' && state.reportedAt && state.acknowledgeLevel < 2) {
      const level = state.acknowledgeLevel + 1;
      timers.push({
        at: Date.parse(state.reportedAt) + level * input.policy.acknowledgeSeconds * 1000,
        fire: async () => {
          state.acknowledgeLevel = level;
          await step({
            step: level === 1 ? 'acknowledge-reminder' : 'acknowledge-escalated-head-of-department',
            key: `acknowledge:${level}`,
            actor: 'system',
          });
        },
      });
    }
    return timers.length ? timers.reduce((a, b) => (b.at < a.at ? b : a)) : null;
  };

  while (!TERMINAL.includes(state.status)) {
    const timer = nextTimer();
    const ready = () => queue.length > 0;
    const got = timer ? await condition(ready, Math.max(1, timer.at - Date.now())) : (await condition(ready), true);
    if (got) await run(queue.shift()!);
    else await timer!.fire();
  }
  // Over: answer whatever is still queued, then let in-flight handlers finish.
  while (!allHandlersFinished() || queue.length > 0) {
    const cmd = queue.shift();
    if (cmd) answers.set(cmd.id, { err: refusal('InvalidState', `the referral is ${state.status}`) });
    else await condition(() => queue.length > 0 || allHandlersFinished());
  }
  return state;
}

/** Activities' business refusals reach the caller with their own type, unwrapped. */
function businessFailure(err: unknown): unknown {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return ApplicationFailure.create({ type: err.cause.type ?? 'Unknown', message: err.cause.message, nonRetryable: true });
  }
  return err;
}
