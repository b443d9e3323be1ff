/**
 * Appointment booking, one workflow per appointment (`booking-<appointmentId>`):
 * hold a slot → confirm → reminder → check-in or no-show → fulfilled; cancel and reschedule
 * at any point before the visit. A slot freed by a cancel, a lapsed hold or a reschedule is
 * offered to the first matching patient on the waitlist, as a new booking with a timed hold.
 * The database keeps slots and patients from double booking; this workflow keeps the timers.
 */
import {
  ApplicationFailure,
  ActivityFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { createBookingActivities } from '../activities/booking';
import type { createOfferHoldActivities } from '../activities/offer-hold';
import {
  CHECK_IN_OPENS_SECONDS,
  DEFAULT_STEP_TIMEOUTS,
  OFFER_MAX_ATTEMPTS,
  bookingWorkflowId,
  type AppointmentView,
  type BookingInput,
  type BookingPolicy,
  type BookingState,
  type BookingStatus,
  type CancelRequest,
  type HoldRequest,
  type RescheduleRequest,
} from '../domain/booking';
import { clinicIdKey, patientIdKey, processStatusKey } from './search-attributes';
import { HandlerLock } from './handler-lock';

export const holdSlotUpdate = defineUpdate<AppointmentView, [HoldRequest]>('holdSlot');
export const confirmUpdate = defineUpdate<AppointmentView, [{ by: string }]>('confirm');
export const cancelUpdate = defineUpdate<AppointmentView, [CancelRequest]>('cancel');
export const rescheduleUpdate = defineUpdate<AppointmentView, [RescheduleRequest]>('reschedule');
export const checkInSignal = defineSignal<[{ by: string }]>('checkIn');
/** The doctor closes the visit before the slot ends (otherwise the slot's end closes it). */
export const visitCompletedSignal = defineSignal<[{ by: string }]>('visitCompleted');
export const bookingStatusQuery = defineQuery<BookingState>('bookingStatus');
/** Sent by a booking to the referral it serves, on every change of its appointment. */
export const bookingChangedSignal = defineSignal<[AppointmentView]>('bookingChanged');
/**
 * The API confirmed the appointment in Postgres (held/offered → booked) and tells the process,
 * which takes the new view if it still holds: an answer from a later change is never undone.
 */
export const confirmedSignal = defineSignal<[AppointmentView]>('confirmed');
/** Another process (a cancelled referral) cancels this booking: the cancel Update without an answer. */
export const cancelRequestSignal = defineSignal<[CancelRequest]>('cancelRequest');

export { bookingWorkflowId };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HOLDING: BookingStatus[] = ['held', 'offered'];
const CHANGEABLE: BookingStatus[] = ['held', 'offered', 'booked'];

type BookingActivities = ReturnType<typeof createBookingActivities>;
const RETRY: RetryPolicy = { initialInterval: '200ms', maximumInterval: '5s' };
const acts = proxyActivities<BookingActivities>({ startToCloseTimeout: '10s', retry: RETRY });
// A waitlist offer is best effort: a few tries, then the slot is left to search.
const offering = proxyActivities<BookingActivities>({
  startToCloseTimeout: '10s',
  retry: { ...RETRY, maximumAttempts: OFFER_MAX_ATTEMPTS },
});

/**
 * Patches (old histories replay without them; see patched()). OFFER_AFTER_ANSWER: a cancel or
 * reschedule answers once it commits and queues the freed slot; the main loop offers it, with
 * bounded retries. AUDIT_ACTORS: check-in and completion record who did them.
 */
const OFFER_AFTER_ANSWER = 'booking-offer-after-answer';
const AUDIT_ACTORS = 'booking-audit-actors';
/** HOLD_EXTENSION: an offer told after quiet hours has its hold moved later by the wait (extendHoldSignal). */
const HOLD_EXTENSION = 'booking-hold-extension';

/** From the offer's delivery process (workflows/notify.ts): the patient is told `byMs` later, so the hold lasts that much longer. */
export const extendHoldSignal = defineSignal<[{ byMs: number }]>('extendHold');
const holdActs = proxyActivities<ReturnType<typeof createOfferHoldActivities>>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '5s' },
});

/**
 * Starts the booking process of a waitlist offer (its hold already taken by offerFreedSlot). It
 * outlives whoever freed the slot: a cancelled booking or the lapsed-holds sweep.
 */
export async function startOfferProcess(offer: AppointmentView, policy: BookingPolicy): Promise<void> {
  await startChild(bookingWorkflow, {
    workflowId: bookingWorkflowId(offer.appointmentId),
    args: [{ appointmentId: offer.appointmentId, patientId: offer.patientId, clinicId: offer.clinicId, policy, offered: offer }],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    typedSearchAttributes: [
      { key: clinicIdKey, value: offer.clinicId },
      { key: patientIdKey, value: offer.patientId },
      { key: processStatusKey, value: 'offered' },
    ],
  });
}

/**
 * Cancel and reschedule are for before the visit; once it has started, check-in, no-show and the
 * visit's end decide. (In validators only: an accepted Update is not validated again on replay.)
 */
function refuseOnceStarted(appointment: AppointmentView, what: string) {
  if (Date.now() >= Date.parse(appointment.startsAt)) throw new Error(`the visit has started; it can no longer be ${what}`);
}

/** Runs one appointment from hold to its end. Started by `POST /appointments` with the row it made (`held`); processes started before that took the hold in an update-with-start. */
export async function bookingWorkflow(input: BookingInput): Promise<BookingState> {
  const { workflowId } = workflowInfo();
  // What a caller waits on (hold, confirm, cancel, reschedule) runs as local activities: one short
  // transaction in the worker that runs the workflow, without a round trip through the server.
  // They give up at the deadline (30 s by default), so a caller is answered; each activity's
  // transaction ends before its attempt does, so no hold can be written after its process gave up.
  const steps = input.policy.stepTimeouts ?? DEFAULT_STEP_TIMEOUTS;
  const interactive = proxyLocalActivities<BookingActivities>({
    startToCloseTimeout: steps.attemptSeconds * 1000,
    scheduleToCloseTimeout: steps.deadlineSeconds * 1000,
    retry: RETRY,
  });
  const initial = input.offered ?? input.held;
  const state: BookingState = { status: initial ? initial.status : 'new', appointment: initial ?? null, reminderSent: false };
  let checkedIn = false;
  let visitCompleted = false;
  /** Who checked the patient in, and who closed the visit (for the audit log). */
  let checkedInBy = 'registrar';
  let completedBy: string | undefined;
  /** Slots freed by a cancel, reschedule or lapse, waiting for the main loop to offer them. */
  const freedSlots: string[] = [];
  /** Bumped when the visit moves, so waiting timers start over from the new time. */
  let version = 0;
  // One transition at a time: handlers and the main loop take turns on the appointment.
  const lock = new HandlerLock();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => lock.runExclusive(fn);
  /** Signals to the referral still in flight: the process ends only once they are sent. */
  const notices: Promise<unknown>[] = [];
  /** Freed slots offered so far: keys each offer, so a second freeing of a slot is a new offer. */
  let offers = 0;
  /** Reschedules tried so far: keys each move's audit row, so a retried move is recognised. */
  let moves = 0;
  const apply = (view: AppointmentView) => {
    if (state.appointment && view.startsAt !== state.appointment.startsAt) {
      version++;
      state.reminderSent = false;
      checkedIn = false; // a check-in belongs to the visit time it was made for
    }
    state.appointment = view;
    state.status = view.status;
    upsertSearchAttributes([{ key: processStatusKey, value: view.status }]);
    // Best effort: a referral that has ended no longer listens.
    if (input.referralWorkflowId)
      notices.push(
        getExternalWorkflowHandle(input.referralWorkflowId)
          .signal(bookingChangedSignal, view)
          .catch(() => undefined),
      );
    return view;
  };
  // Best effort: if the offer fails (someone booked the slot first), the slot is simply gone.
  const offerFreed = async (slotId: string, via: typeof acts = acts) => {
    const offer = await via
      .offerFreedSlot({
        slotId,
        offerKey: `${workflowId}:${++offers}`,
        excludePatientId: input.patientId,
        offerHoldSeconds: input.policy.offerHoldSeconds,
      })
      .catch(() => null);
    if (offer) await startOfferProcess(offer, input.policy);
  };
  /** Hands a freed slot to the main loop (patched), or offers it here and now as released code did. */
  const freed = async (slotId: string) => {
    if (patched(OFFER_AFTER_ANSWER)) freedSlots.push(slotId);
    else await offerFreed(slotId);
  };
  const requireStatus = (allowed: BookingStatus[], action: string) => {
    if (!state.appointment || !allowed.includes(state.appointment.status)) {
      throw ApplicationFailure.create({
        type: 'InvalidState',
        message: `cannot ${action} an appointment that is ${state.status}`,
        nonRetryable: true,
      });
    }
  };

  setHandler(bookingStatusQuery, () => state);
  /** Hold time owed by quiet hours, not yet applied (HOLD_EXTENSION). */
  let extensionMs = 0;
  setHandler(extendHoldSignal, ({ byMs }) => {
    if (Number.isFinite(byMs) && byMs > 0) extensionMs += byMs;
  });

  setHandler(
    holdSlotUpdate,
    (req) =>
      exclusive(async () => {
        // The same request again (a client retry) gets the same answer.
        if (state.appointment) return state.appointment;
        if (state.status === 'rejected')
          throw ApplicationFailure.create({
            type: 'InvalidState',
            message: 'this booking request was already refused',
            nonRetryable: true,
          });
        try {
          return apply(
            await interactive.holdSlot({
              appointmentId: input.appointmentId,
              workflowId,
              patientId: input.patientId,
              slotId: req.slotId,
              bookedBy: req.bookedBy,
              policy: input.policy,
            }),
          );
        } catch (err) {
          state.status = 'rejected';
          upsertSearchAttributes([{ key: processStatusKey, value: 'rejected' }]);
          throw businessFailure(err);
        }
      }),
    {
      validator: (req) => {
        if (!UUID.test(req.slotId)) throw new Error('slotId must be a uuid');
        if (state.appointment && state.appointment.slotId !== req.slotId) throw new Error('this booking already holds another slot');
      },
    },
  );

  setHandler(
    confirmUpdate,
    (req) =>
      exclusive(async () => {
        if (state.appointment?.status === 'booked') return state.appointment;
        requireStatus(HOLDING, 'confirm');
        return apply(
          await interactive.confirmAppointment({ appointmentId: input.appointmentId, workflowId, by: req.by }).catch(rethrowBusiness),
        );
      }),
    {
      validator: (_req) => {
        if (!state.appointment || ![...HOLDING, 'booked'].includes(state.appointment.status))
          throw new Error(`cannot confirm an appointment that is ${state.status}`);
      },
    },
  );

  setHandler(
    cancelUpdate,
    (req) =>
      exclusive(async () => {
        if (state.appointment?.status === 'cancelled') return state.appointment;
        requireStatus(CHANGEABLE, 'cancel');
        const view = apply(
          await interactive
            .cancelAppointment({ appointmentId: input.appointmentId, workflowId, by: req.by, reason: req.reason })
            .catch(rethrowBusiness),
        );
        if (view.status === 'cancelled') await freed(view.slotId);
        return view;
      }),
    {
      validator: (_req) => {
        if (!state.appointment || ![...CHANGEABLE, 'cancelled'].includes(state.appointment.status))
          throw new Error(`cannot cancel an appointment that is ${state.status}`);
        if (state.appointment.status !== 'cancelled') refuseOnceStarted(state.appointment, 'cancelled');
      },
    },
  );

  setHandler(
    rescheduleUpdate,
    (req) =>
      exclusive(async () => {
        requireStatus(CHANGEABLE, 'reschedule');
        if (state.appointment!.slotId === req.slotId) return state.appointment!;
        // One statement moves the appointment: the old slot is free only once the new one is held.
        const { appointment, freedSlotId } = await interactive
          .moveAppointment({
            appointmentId: input.appointmentId,
            workflowId,
            newSlotId: req.slotId,
            by: req.by,
            policy: input.policy,
            moveNumber: ++moves,
          })
          .catch(rethrowBusiness);
        apply(appointment);
        if (freedSlotId) await freed(freedSlotId);
        return appointment;
      }),
    {
      validator: (req) => {
        if (!UUID.test(req.slotId)) throw new Error('slotId must be a uuid');
        if (!state.appointment || !CHANGEABLE.includes(state.appointment.status))
          throw new Error(`cannot reschedule an appointment that is ${state.status}`);
        refuseOnceStarted(state.appointment, 'moved');
      },
    },
  );

  setHandler(confirmedSignal, (view) => {
    void exclusive(async () => {
      if (
        view.appointmentId === input.appointmentId &&
        view.status === 'booked' &&
        state.appointment &&
        HOLDING.includes(state.appointment.status)
      )
        apply(view);
    });
  });

  setHandler(cancelRequestSignal, (req) => {
    void exclusive(async () => {
      if (!state.appointment || !CHANGEABLE.includes(state.appointment.status)) return;
      const view = apply(
        await interactive.cancelAppointment({ appointmentId: input.appointmentId, workflowId, by: req.by, reason: req.reason }),
      );
      if (view.status === 'cancelled') await freed(view.slotId);
    }).catch(() => undefined); // the visit has started: check-in, no-show and the visit's end decide
  });

  setHandler(checkInSignal, (req) => {
    const a = state.appointment;
    if (a?.status === 'booked' && Date.now() >= Date.parse(a.startsAt) - CHECK_IN_OPENS_SECONDS * 1000) {
      checkedIn = true;
      checkedInBy = req?.by ?? checkedInBy;
    }
  });
  setHandler(visitCompletedSignal, (req) => {
    visitCompleted = true;
    completedBy ??= req?.by;
  });

  // The API made the appointment before this process started: the referral it serves hears of it now.
  if (input.held && input.referralWorkflowId) {
    const referral = getExternalWorkflowHandle(input.referralWorkflowId);
    notices.push(referral.signal(bookingChangedSignal, input.held).catch(() => undefined));
  }
  // A start with the hold in an Update (processes started before `held`): a start without one ends here.
  if (!state.appointment) {
    await condition(() => state.appointment !== null || state.status === 'rejected', '5 minutes');
    await condition(allHandlersFinished);
    if (!state.appointment) return state;
  }

  // At least 1 ms: a zero timeout would make condition() wait without one.
  const until = (iso: string, extraSeconds = 0) => Math.max(1, Date.parse(iso) + extraSeconds * 1000 - Date.now());
  for (;;) {
    // Offers of freed slots are made here, outside the handlers: the caller has had their answer.
    while (freedSlots.length > 0) await offerFreed(freedSlots.shift()!, offering);
    const a = state.appointment!;
    const seen = version;
    const moved = () => version !== seen || state.appointment!.status !== a.status;
    // Waits also end for a slot to offer (a move to another practitioner at the same time changes no time).
    const wake = () => moved() || freedSlots.length > 0;
    if (HOLDING.includes(a.status)) {
      // patched() here, not at the start: released histories reach this point without the marker.
      const extends_ = patched(HOLD_EXTENSION);
      if (await condition(() => wake() || (extends_ && extensionMs > 0), until(a.holdExpiresAt!))) {
        if (extends_ && extensionMs > 0 && !moved()) {
          const by = extensionMs;
          extensionMs = 0;
          await exclusive(async () =>
            HOLDING.includes(state.appointment!.status)
              ? apply(
                  await holdActs.extendHold({
                    appointmentId: input.appointmentId,
                    workflowId,
                    until: new Date(Date.parse(state.appointment!.holdExpiresAt!) + by).toISOString(),
                  }),
                )
              : undefined,
          );
        }
        continue;
      }
      const lapsed = await exclusive(async () =>
        HOLDING.includes(state.appointment!.status)
          ? apply(await acts.expireHold({ appointmentId: input.appointmentId, workflowId }))
          : undefined,
      );
      if (lapsed?.status === 'expired') await freed(lapsed.slotId);
      continue;
    }
    if (a.status === 'booked') {
      if (!state.reminderSent) {
        if (await condition(wake, until(a.startsAt, -input.policy.reminderLeadSeconds))) continue;
        await acts.sendReminder({ appointmentId: input.appointmentId, workflowId, patientId: input.patientId, startsAt: a.startsAt });
        state.reminderSent = true;
      }
      if (await condition(() => wake() || checkedIn, until(a.startsAt, input.policy.noShowGraceSeconds))) {
        await exclusive(async () =>
          checkedIn && !moved()
            ? apply(
                await acts.markArrived({
                  appointmentId: input.appointmentId,
                  workflowId,
                  ...(patched(AUDIT_ACTORS) ? { by: checkedInBy } : {}),
                }),
              )
            : undefined,
        );
        continue;
      }
      // Re-checked under the lock: a reschedule that got there first moved the visit.
      await exclusive(async () =>
        !moved() ? apply(await acts.markNoShow({ appointmentId: input.appointmentId, workflowId })) : undefined,
      );
      continue;
    }
    if (a.status === 'arrived') {
      const early = await condition(() => visitCompleted, until(a.endsAt));
      const by = early ? completedBy : undefined;
      await exclusive(async () =>
        apply(await acts.completeVisit({ appointmentId: input.appointmentId, workflowId, ...(patched(AUDIT_ACTORS) && by ? { by } : {}) })),
      );
      continue;
    }
    // fulfilled, cancelled, noshow, expired: the process is over. Let in-flight handlers finish,
    // then offer what they freed.
    await condition(allHandlersFinished);
    if (freedSlots.length > 0) continue;
    await Promise.all(notices);
    return state;
  }
}

/** Activities' business refusals reach the caller with their own type, unwrapped. */
function businessFailure(err: unknown): unknown {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return ApplicationFailure.create({ type: err.cause.type ?? 'Unknown', message: err.cause.message, nonRetryable: true });
  }
  return err;
}

function rethrowBusiness(err: unknown): never {
  throw businessFailure(err);
}
