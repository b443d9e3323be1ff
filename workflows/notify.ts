/**
 * One message to one person (`notify-<message key>`), started by the delivery relay for each row
 * a process wrote to an outbox (notifications, lab_notifications). Plans the channels (consent,
 * preferred first), waits out quiet hours in the clinic's zone (not for critical values), then
 * tries each channel in turn: a durable activity with retries and backoff, sent once per dedupe
 * key. A channel that keeps failing (or an SMS the gateway reports undelivered) moves to the next;
 * when none is left, or there was none, the message goes to ops.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  defineSignal,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import { bookingWorkflowId, extendHoldSignal } from './booking';
import type { createNotifyActivities, NotifyInput } from '../activities/notify';

type NotifyActivities = ReturnType<typeof createNotifyActivities>;

export type { NotifyInput };

/** The SMS gateway's delivery report for this message, relayed by `POST /notifications/sms-status`. */
export const deliveryReportSignal = defineSignal<[{ outcome: 'delivered' | 'failed'; reason: string | null }]>('deliveryReport');

export const notifyWorkflowId = (messageKey: string) => `notify-${messageKey}`;

/** `heldBackMs`: how long quiet hours held the message back (an offer's hold grew by as much). */
export interface NotifyOutcome {
  outcome: 'sent' | 'delivered' | 'ops';
  channel: string | null;
  notBefore: string;
  heldBackMs: number;
}

/** Delivers one message; returns the channel that took it, or `ops`. */
export async function notifyWorkflow(input: NotifyInput): Promise<NotifyOutcome> {
  const p = input.policy;
  const books = proxyActivities<NotifyActivities>({
    startToCloseTimeout: '15s',
    retry: { initialInterval: '200ms', maximumInterval: '10s' },
  });
  const send = proxyActivities<NotifyActivities>({
    startToCloseTimeout: `${p.sendTimeoutSeconds}s`,
    retry: {
      initialInterval: `${p.retryInitialSeconds}s`,
      backoffCoefficient: 2,
      maximumInterval: `${p.retryMaxSeconds}s`,
      maximumAttempts: p.attemptsPerChannel,
      nonRetryableErrorTypes: ['Undeliverable'],
    },
  });
  let report: { outcome: 'delivered' | 'failed'; reason: string | null } | null = null;
  setHandler(deliveryReportSignal, (r) => {
    report = r;
  });

  const plan = await books.planDelivery(input);
  const notBefore = new Date(plan.sendAtMs).toISOString();
  if (!input.recipient || plan.channels.length === 0) {
    await books.handToOps({ ...input, reason: input.recipient ? 'no-channel' : 'no-recipient' });
    return { outcome: 'ops', channel: null, notBefore, heldBackMs: 0 };
  }
  // Quiet hours: wait for the morning (a durable timer: a restart keeps the wait). An offer's hold
  // grows by the wait first, so the patient has the whole hold once told (an ended process ignores it).
  const waitMs = plan.sendAtMs - Date.now();
  if (waitMs > 0) {
    if (input.kind === 'waitlist-offer' && input.refs.appointmentId) {
      await getExternalWorkflowHandle(bookingWorkflowId(input.refs.appointmentId))
        .signal(extendHoldSignal, { byMs: waitMs })
        .catch(() => undefined);
    }
    await sleep(waitMs);
  }

  for (const c of plan.channels) {
    try {
      const done = await send.deliverOnChannel({ ...input, channel: c.channel, address: c.address, message: plan.message });
      if (c.channel === 'sms' && done.status === 'sent') {
        report = null;
        const heard = await condition(() => report !== null, p.smsReportSeconds * 1000);
        const r = report as { outcome: 'delivered' | 'failed'; reason: string | null } | null;
        if (heard && r?.outcome === 'failed') {
          await books.markChannelFailed({
            messageKey: input.messageKey,
            kind: input.kind,
            channel: c.channel,
            reason: `gateway report: ${r.reason ?? 'not delivered'}`,
          });
          continue;
        }
      }
      return { outcome: done.status, channel: c.channel, notBefore, heldBackMs: Math.max(0, waitMs) };
    } catch (err) {
      const cause = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : null;
      const reason = cause ? `${cause.type ?? 'Error'}: ${cause.message}` : 'gave up after retries';
      await books.markChannelFailed({ messageKey: input.messageKey, kind: input.kind, channel: c.channel, reason });
    }
  }
  await books.handToOps({ ...input, reason: 'all-channels-failed' });
  return { outcome: 'ops', channel: null, notBefore, heldBackMs: Math.max(0, waitMs) };
}
