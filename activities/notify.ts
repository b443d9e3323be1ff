/**
 * The delivery activities (issue 23): plan a message (recipient's channels, quiet hours, words),
 * send it on one channel exactly once per dedupe key, and record failures and hand-offs to ops.
 * Each delivery row is keyed `<message key>:<channel>`: a retry finds the row already sent and
 * sends nothing; one killed mid-send resends with the same Message-ID / gateway client id.
 */
import { sql } from 'kysely';
import type { Db } from '../db';
import { contactPointsOf } from '../db/notify';
import { nameUuid } from '../domain/ids';
import {
  channelOrder,
  ignoresQuietHours,
  policyNow,
  quietHoursEnd,
  realAt,
  type Channel,
  type MessageKind,
  type NotifyPolicy,
  type Recipient,
  type SkipReason,
} from '../domain/notify';
import { renderMessage, type RenderedMessage } from '../domain/notify-templates';
import { localDateTime } from '../domain/time';
import { decisionToDeliverySeconds, deliveriesTotal } from '../platform/notify-metrics';
import type { MailSender, SmsSender } from './notify-channels';
import { activityTransaction } from './tx';

export interface MessageRefs {
  appointmentId: string | null;
  labOrderId: string | null;
  referralId: string | null;
  /** A staff message about a clinic (onboarding): its zone and name. */
  clinicId?: string | null;
}

/** What the relay (or a process) hands the delivery workflow. */
export interface NotifyInput {
  messageKey: string;
  kind: MessageKind;
  /** Null: the process named nobody (no head of department on record): straight to ops. */
  recipient: Recipient | null;
  decidedAt: string;
  refs: MessageRefs;
  policy: NotifyPolicy;
}

export interface DeliveryPlan {
  channels: Array<{ channel: Channel; address: string | null }>;
  skipped: Array<{ channel: Channel; why: SkipReason }>;
  /** Real epoch ms to send at (later than now only in quiet hours). */
  sendAtMs: number;
  message: RenderedMessage;
}

export interface NotifyDeps {
  db: Db;
  mail: MailSender;
  sms: SmsSender | null;
  publicBaseUrl: string;
  defaultTimeZone?: string;
}

const DEFAULT_ZONE = 'Europe/Moscow';

export function createNotifyActivities(deps: NotifyDeps) {
  const { db } = deps;
  const available: Channel[] = deps.sms ? ['email', 'sms', 'app'] : ['email', 'app'];
  const mailDomain = 'clinic.local';

  /** The visit's and the clinic's facts; an offer's hold shown as it will be once the quiet-hours wait is added (`holdExtraMs`). */
  async function facts(input: NotifyInput, holdExtraMs = 0) {
    const r = input.refs;
    if (r.appointmentId) {
      const a = await db
        .selectFrom('appointments as a')
        .innerJoin('clinics as c', 'c.id', 'a.clinic_id')
        .select(['a.starts_at', 'a.hold_expires_at', 'c.time_zone', 'c.name'])
        .where('a.id', '=', r.appointmentId)
        .executeTakeFirst();
      if (a)
        return {
          timeZone: a.time_zone,
          clinicName: a.name,
          visitLocal: localDateTime(a.starts_at, a.time_zone),
          holdUntilLocal: a.hold_expires_at ? localDateTime(new Date(a.hold_expires_at.getTime() + holdExtraMs), a.time_zone) : null,
        };
    }
    if (r.labOrderId) {
      const o = await db
        .selectFrom('lab_orders as o')
        .innerJoin('clinics as c', 'c.id', 'o.clinic_id')
        .select(['c.time_zone', 'c.name'])
        .where('o.id', '=', r.labOrderId)
        .executeTakeFirst();
      if (o) return { timeZone: o.time_zone, clinicName: o.name, visitLocal: null, holdUntilLocal: null };
    }
    const clinicId = r.referralId
      ? (await db.selectFrom('referrals').select('clinic_id').where('id', '=', r.referralId).executeTakeFirst())?.clinic_id
      : r.clinicId;
    if (clinicId) {
      const c = await db.selectFrom('clinics').select(['time_zone', 'name']).where('id', '=', clinicId).executeTakeFirst();
      if (c) return { timeZone: c.time_zone, clinicName: c.name, visitLocal: null, holdUntilLocal: null };
    }
    return { timeZone: deps.defaultTimeZone ?? DEFAULT_ZONE, clinicName: null, visitLocal: null, holdUntilLocal: null };
  }

  function linkFor(input: NotifyInput): string {
    const base = deps.publicBaseUrl.replace(/\/$/, '');
    if (input.recipient?.type === 'practitioner') return `${base}/doctor/inbox`;
    if (input.refs.appointmentId) return `${base}/patient/appointments/${input.refs.appointmentId}`;
    if (input.refs.labOrderId && input.recipient) return `${base}/records/${input.recipient.id}/results`;
    return `${base}/patient/inbox`;
  }

  const refColumns = (r: MessageRefs) => ({ appointment_id: r.appointmentId, lab_order_id: r.labOrderId, referral_id: r.referralId });

  return {
    /** Who gets it on which channels in which order, when (quiet hours in the clinic's zone) and in which words; queues the first channel's row. */
    async planDelivery(input: NotifyInput): Promise<DeliveryPlan> {
      const zone = (await facts(input)).timeZone;
      const clock = input.policy.clock;
      const nowReal = Date.now();
      const sendAtPolicy = ignoresQuietHours(input.kind)
        ? policyNow(nowReal, clock)
        : quietHoursEnd(policyNow(nowReal, clock), zone, input.policy);
      const sendAtMs = Math.max(nowReal, Math.round(realAt(sendAtPolicy, clock)));
      const f = await facts(input, sendAtMs - nowReal);
      const message = renderMessage(input.kind, {
        link: linkFor(input),
        visitLocal: f.visitLocal,
        holdUntilLocal: f.holdUntilLocal,
        clinicName: f.clinicName,
      });
      if (!input.recipient) return { channels: [], skipped: [], sendAtMs, message };
      const points = await contactPointsOf(db, input.recipient.type, input.recipient.id);
      const order = channelOrder(input.recipient.type, points, available);
      const channels = order.use.map((channel) => ({ channel, address: points.find((p) => p.channel === channel)?.address ?? null }));
      const first = channels[0];
      if (first) {
        await activityTransaction(db, (tx) =>
          tx
            .insertInto('deliveries')
            .values({
              dedupe_key: `${input.messageKey}:${first.channel}`,
              message_key: input.messageKey,
              kind: input.kind,
              recipient_type: input.recipient!.type,
              recipient_id: input.recipient!.id,
              channel: first.channel,
              address: first.address,
              status: 'queued',
              decided_at: input.decidedAt,
              not_before: new Date(sendAtPolicy),
              ...refColumns(input.refs),
            })
            .onConflict((oc) => oc.column('dedupe_key').doNothing())
            .execute(),
        );
      }
      return { channels, skipped: order.skipped, sendAtMs, message };
    },

    /** Sends one message on one channel, once: a row already sent answers as it did; the in-app message and its row commit together. */
    async deliverOnChannel(
      input: NotifyInput & { channel: Channel; address: string | null; message: RenderedMessage },
    ): Promise<{ status: 'sent' | 'delivered'; providerId: string | null }> {
      const key = `${input.messageKey}:${input.channel}`;
      const recipient = input.recipient!;
      const row = await activityTransaction(db, async (tx) => {
        await tx
          .insertInto('deliveries')
          .values({
            dedupe_key: key,
            message_key: input.messageKey,
            kind: input.kind,
            recipient_type: recipient.type,
            recipient_id: recipient.id,
            channel: input.channel,
            address: input.address,
            status: 'queued',
            decided_at: input.decidedAt,
            ...refColumns(input.refs),
          })
          .onConflict((oc) => oc.column('dedupe_key').doNothing())
          .execute();
        const current = await tx
          .selectFrom('deliveries')
          .select(['id', 'status', 'provider_id'])
          .where('dedupe_key', '=', key)
          .forUpdate()
          .executeTakeFirstOrThrow();
        if (current.status === 'sent' || current.status === 'delivered') return current;
        if (input.channel === 'app') {
          await tx
            .insertInto('inbox_messages')
            .values({
              delivery_key: key,
              recipient_type: recipient.type,
              recipient_id: recipient.id,
              kind: input.kind,
              subject: input.message.subject,
              body: input.message.text,
              link: input.message.text.match(/https?:\/\/\S+/)?.[0] ?? null,
            })
            .onConflict((oc) => oc.column('delivery_key').doNothing())
            .execute();
          await tx
            .updateTable('deliveries')
            .set({ status: 'delivered', attempts: sql`attempts + 1`, sent_at: sql`now()`, delivered_at: sql`now()`, reason: null })
            .where('id', '=', current.id)
            .execute();
          return { ...current, status: 'delivered' as const, fresh: true };
        }
        await tx
          .updateTable('deliveries')
          .set({ status: 'sending', attempts: sql`attempts + 1`, address: input.address })
          .where('id', '=', current.id)
          .execute();
        // Found 'sending': an earlier attempt began and never recorded its end (killed, or timed out).
        return { ...current, status: 'sending' as const, cutOff: current.status === 'sending' };
      });
      if (row.status === 'sent' || row.status === 'delivered') {
        if ('fresh' in row) observe(input, 'delivered');
        return { status: row.status, providerId: row.provider_id };
      }
      let providerId: string;
      if (input.channel === 'email') {
        const messageId = `<${nameUuid('delivery', key)}@${mailDomain}>`;
        ({ providerId } = await deps.mail.send({
          to: input.address!,
          subject: input.message.subject,
          text: input.message.text,
          messageId,
          deliveryKey: key,
        }));
      } else {
        if (!deps.sms) throw new Error('no SMS gateway is configured');
        const sms = { to: input.address!, text: input.message.sms, clientId: nameUuid('delivery', key) };
        // A gateway that knows our id is asked first whether the cut-off attempt reached it: then it is not sent again.
        const already = 'cutOff' in row && row.cutOff && deps.sms.lookup ? await deps.sms.lookup(sms) : null;
        ({ providerId } = already ?? (await deps.sms.send(sms)));
      }
      await activityTransaction(db, (tx) =>
        tx
          .updateTable('deliveries')
          .set({ status: 'sent', sent_at: sql`now()`, provider_id: providerId, reason: null })
          .where('dedupe_key', '=', key)
          .where('status', '=', 'sending')
          .execute(),
      );
      observe(input, 'sent');
      return { status: 'sent', providerId };
    },

    /** A channel given up after its retries (or a failed delivery report): status failed and why, so ops and the patient's record see it. */
    async markChannelFailed(input: { messageKey: string; kind: MessageKind; channel: Channel; reason: string }): Promise<void> {
      await activityTransaction(db, (tx) =>
        tx
          .updateTable('deliveries')
          .set({ status: 'failed', failed_at: sql`now()`, reason: input.reason.slice(0, 200) })
          .where('dedupe_key', '=', `${input.messageKey}:${input.channel}`)
          .where('status', 'in', ['queued', 'sending', 'sent'])
          .execute(),
      );
      deliveriesTotal.inc({ channel: input.channel, kind: input.kind, outcome: 'failed' });
    },

    /** No channel reached the person (or none is left): ops gets the message to act on, with why. */
    async handToOps(input: NotifyInput & { reason: 'no-channel' | 'all-channels-failed' | 'no-recipient' }): Promise<void> {
      await activityTransaction(db, (tx) =>
        tx
          .insertInto('deliveries')
          .values({
            dedupe_key: `${input.messageKey}:ops`,
            message_key: input.messageKey,
            kind: input.kind,
            recipient_type: input.recipient?.type ?? 'ops',
            recipient_id: input.recipient?.id ?? null,
            channel: 'ops',
            status: 'failed',
            reason: input.reason,
            decided_at: input.decidedAt,
            failed_at: sql`now()`,
            ...refColumns(input.refs),
          })
          .onConflict((oc) => oc.column('dedupe_key').doNothing())
          .execute(),
      );
      deliveriesTotal.inc({ channel: 'ops', kind: input.kind, outcome: 'failed' });
    },
  };

  function observe(input: NotifyInput & { channel: Channel }, outcome: 'sent' | 'delivered') {
    deliveriesTotal.inc({ channel: input.channel, kind: input.kind, outcome });
    decisionToDeliverySeconds.observe(
      { channel: input.channel, kind: input.kind },
      Math.max(0, Date.now() - Date.parse(input.decidedAt)) / 1000,
    );
  }
}
