/**
 * Messages, for the people they reach (issue 23): my contact points (consent per channel and a
 * preferred one), my in-app inbox, the delivery status of an appointment, lab order or referral,
 * and the SMS gateway's delivery reports (`POST /notifications/sms-status`, the configured gateway's callback form).
 */
import { timingSafeEqual } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { contactPointsOf, deliveriesFor, inboxMessages, recordSmsReport, saveContactPoints } from '../db/notify';
import { addressProblem, CHANNELS, type Channel, type ContactPoint } from '../domain/notify';
import { smsProtocol } from '../domain/sms-gateways';
import { deliveryReportSignal, notifyWorkflowId } from '../workflows/notify';
import type { Db } from '../db';
import { canReadPatientRecord } from './access';
import { requireRole, type Caller } from './auth';
import { ApiError, errorResponse } from './errors';
import { newRouter, type ApiDeps, type AppEnv } from './router';

const Uuid = z.string().uuid();
const ChannelSchema = z.enum(['email', 'sms', 'app']);
const ContactPointSchema = z
  .object({
    channel: ChannelSchema,
    address: z.string().max(254).nullable(),
    consent: z.boolean(),
  })
  .openapi('ContactPoint');
const ContactsSchema = z
  .object({
    points: z.array(ContactPointSchema).max(3),
    preferred: ChannelSchema.nullable(),
  })
  .openapi('Contacts');
const InboxSchema = z
  .object({
    messages: z.array(
      z.object({
        id: Uuid,
        kind: z.string(),
        subject: z.string(),
        body: z.string(),
        link: z.string().nullable(),
        createdAt: z.string(),
        readAt: z.string().nullable(),
      }),
    ),
  })
  .openapi('Inbox');
const DeliverySchema = z
  .object({
    kind: z.string(),
    recipientType: z.string(),
    recipientId: z.string().nullable(),
    channel: z.enum(['email', 'sms', 'app', 'ops']),
    status: z.enum(['queued', 'sending', 'sent', 'delivered', 'failed']),
    reason: z.string().nullable(),
    attempts: z.number().int(),
    decidedAt: z.string(),
    sentAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    failedAt: z.string().nullable(),
  })
  .openapi('Delivery');
const DeliveriesSchema = z.object({ deliveries: z.array(DeliverySchema) }).openapi('Deliveries');

/** Whose contact points and inbox these are: a patient's own, or a doctor's own practitioner record. */
export function owner(caller: Caller): { type: 'patient' | 'practitioner'; id: string } {
  if (caller.role === 'patient' && caller.patientId) return { type: 'patient', id: caller.patientId };
  if (caller.role === 'doctor' && caller.practitionerId) return { type: 'practitioner', id: caller.practitionerId };
  throw new ApiError(403, 'forbidden', 'Only a patient or a doctor with their own record has contact points and an inbox.');
}

const toContacts = (points: ContactPoint[]) => ({
  points: CHANNELS.flatMap((ch) =>
    points.filter((p) => p.channel === ch).map((p) => ({ channel: p.channel, address: p.address, consent: p.consent })),
  ),
  preferred: points.find((p) => p.preferred)?.channel ?? null,
});

/** Checks what a person sent (each channel once, real addresses, a preferred channel they consent to); the pages use it too. */
export function contactPointsFrom(body: {
  points: Array<{ channel: Channel; address: string | null; consent: boolean }>;
  preferred: Channel | null;
}): ContactPoint[] {
  const seen = new Set<string>();
  const points: ContactPoint[] = [];
  for (const p of body.points) {
    if (seen.has(p.channel)) throw new ApiError(400, 'invalid_contact', `The channel ${p.channel} is given twice.`, { channel: p.channel });
    seen.add(p.channel);
    const address = p.channel === 'app' ? null : p.address?.trim() || null;
    const problem = address || p.consent ? addressProblem(p.channel, address) : null;
    if (problem) throw new ApiError(400, 'invalid_contact', `${p.channel}: ${problem}.`, { channel: p.channel });
    points.push({ channel: p.channel, address, consent: p.consent, preferred: body.preferred === p.channel });
  }
  if (body.preferred && !points.some((p) => p.preferred && p.consent)) {
    throw new ApiError(400, 'invalid_contact', 'The preferred channel must be one you consent to.', { channel: body.preferred });
  }
  return points;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

const RECORD_TABLES = { appointments: 'appointments', 'lab-orders': 'lab_orders', referrals: 'referrals' } as const;
const RECORD_REFS = { appointments: 'appointmentId', 'lab-orders': 'labOrderId', referrals: 'referralId' } as const;
export type DeliveryRecordKind = keyof typeof RECORD_TABLES;

/**
 * The deliveries of one appointment, lab order or referral, for a caller who may read its patient's record (the
 * record's own rule, audited): `GET /{kind}/{id}/deliveries` and the staff pages that show one record both call it.
 */
export async function recordDeliveries(c: Context<AppEnv>, db: Db, kind: DeliveryRecordKind, id: string) {
  const row = await db.selectFrom(RECORD_TABLES[kind]).select('patient_id').where('id', '=', id).executeTakeFirst();
  if (!row) throw new ApiError(404, 'not_found', 'No such record.');
  await canReadPatientRecord(c, db, row.patient_id, { type: `${kind}-deliveries`, id });
  return deliveriesFor(db, { [RECORD_REFS[kind]]: id });
}

export function notifyRouter(deps: ApiDeps) {
  const { db, config } = deps;
  const own = requireRole(config, 'patient', 'doctor');
  const readers = requireRole(config, 'patient', 'registrar', 'doctor', 'admin');
  const router = newRouter();
  const authResponses = { 401: errorResponse('No or invalid token'), 403: errorResponse('Role not allowed') };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/me/contacts',
      summary: 'My contact points: phone, e-mail, the app, each with consent, and my preferred channel',
      security: [{ bearer: [] }],
      middleware: [own] as const,
      responses: {
        200: { description: 'The contact points', content: { 'application/json': { schema: ContactsSchema } } },
        ...authResponses,
      },
    }),
    async (c) => {
      const o = owner(c.get('caller'));
      return c.json(toContacts(await contactPointsOf(db, o.type, o.id)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/me/contacts',
      summary: 'Replace my contact points and consents (a channel without consent is never used)',
      security: [{ bearer: [] }],
      middleware: [own] as const,
      request: { body: { content: { 'application/json': { schema: ContactsSchema } }, required: true } },
      responses: {
        200: { description: 'Saved', content: { 'application/json': { schema: ContactsSchema } } },
        400: errorResponse('A channel twice, an address that is not one, or a preferred channel without consent'),
        ...authResponses,
      },
    }),
    async (c) => {
      const caller = c.get('caller');
      const o = owner(caller);
      const points = contactPointsFrom(c.req.valid('json'));
      await saveContactPoints(db, o, points, caller.id);
      return c.json(toContacts(points), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/me/inbox',
      summary: 'My in-app messages, newest first (the web inbox shows them live)',
      security: [{ bearer: [] }],
      middleware: [own] as const,
      responses: { 200: { description: 'The messages', content: { 'application/json': { schema: InboxSchema } } }, ...authResponses },
    }),
    async (c) => {
      const o = owner(c.get('caller'));
      const rows = await inboxMessages(db, o);
      return c.json(
        {
          messages: rows.map((r) => ({
            id: r.id,
            kind: r.kind,
            subject: r.subject,
            body: r.body,
            link: r.link,
            createdAt: r.created_at.toISOString(),
            readAt: iso(r.read_at),
          })),
        },
        200,
      );
    },
  );

  const deliveriesRoute = (kind: DeliveryRecordKind) => {
    router.openapi(
      createRoute({
        method: 'get',
        path: `/${kind}/{id}/deliveries`,
        summary: `Who was told what about this ${kind === 'lab-orders' ? 'lab order' : kind.slice(0, -1)}, on which channel, and how it went`,
        security: [{ bearer: [] }],
        middleware: [readers] as const,
        request: { params: z.object({ id: Uuid }) },
        responses: {
          200: { description: 'The deliveries', content: { 'application/json': { schema: DeliveriesSchema } } },
          404: errorResponse('No such record'),
          ...authResponses,
        },
      }),
      async (c: Context<AppEnv>) => {
        const rows = await recordDeliveries(c, db, kind, c.req.param('id')!);
        return c.json(
          {
            deliveries: rows.map((d) => ({
              kind: d.kind,
              recipientType: d.recipient_type,
              recipientId: d.recipient_id,
              channel: d.channel,
              status: d.status,
              reason: d.reason,
              attempts: d.attempts,
              decidedAt: d.decided_at.toISOString(),
              sentAt: iso(d.sent_at),
              deliveredAt: iso(d.delivered_at),
              failedAt: iso(d.failed_at),
            })),
          },
          200,
        );
      },
    );
  };
  deliveriesRoute('appointments');
  deliveriesRoute('lab-orders');
  deliveriesRoute('referrals');

  router.openapi(
    createRoute({
      method: 'post',
      path: '/notifications/sms-status',
      summary:
        'SMS gateway delivery reports in the form of SMS_GATEWAY_KIND: SMS.ru (data[n] = "sms_status\\n<sms id>\\n<code>\\n<unix time>", ' +
        'answered "100") or SMSC.ru (id, phone, status, err; answered "OK")',
      request: { query: z.object({ token: z.string().optional() }) },
      responses: {
        200: { description: 'Reports taken ("100" for SMS.ru, "OK" for SMSC.ru)', content: { 'text/plain': { schema: z.string() } } },
        401: errorResponse('Missing or wrong callback token'),
      },
    }),
    async (c) => {
      const given = Buffer.from(c.req.query('token') ?? '');
      const wanted = Buffer.from(config.SMS_CALLBACK_TOKEN ?? '');
      if (!wanted.length || given.length !== wanted.length || !timingSafeEqual(given, wanted))
        throw new ApiError(401, 'unauthenticated', 'The callback token is missing or wrong.');
      const form = (await c.req.parseBody({ all: true }).catch(() => ({}))) as Record<string, string | string[]>;
      const protocol = smsProtocol(config.SMS_GATEWAY_KIND);
      for (const { providerId, outcome, reason } of protocol.parseReports(form)) {
        const hit = await recordSmsReport(db, providerId, outcome, reason);
        // The process waits for the report to decide on the next channel; one already finished ignores it.
        if (hit)
          await deps.temporal.workflow
            .getHandle(notifyWorkflowId(hit.messageKey))
            .signal(deliveryReportSignal, { outcome, reason })
            .catch(() => undefined);
      }
      return c.text(protocol.callbackAnswer, 200);
    },
  );

  return router;
}
