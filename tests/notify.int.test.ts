/**
 * Messages reach people (issue 23), with real parts: a real SMTP server, an SMS gateway double
 * speaking the SMS.ru protocol, the real engine and Temporal, and the delivery relay that turns
 * the rows processes write into delivery processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { saveContactPoints, unreachablePatients, addRosterEntry } from '../db/notify';
import { DEFAULT_NOTIFY_POLICY, type ContactPoint, type NotifyPolicy } from '../domain/notify';
import { startOfLocalDay } from '../domain/calendar';
import { localDateTime } from '../domain/time';
import { createLogger } from '../platform/logger';
import { startDeliveryRelay, type DeliveryRelay } from '../workers/notify-relay';
import { notifyWorkflow, notifyWorkflowId } from '../workflows/notify';
import { daysFromNow, makeBookedRow, makeClinic, makePatient, makeSlot } from './fixtures';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';
import { labApi, makeLabClinic, makeLabPatient } from './lab-fixtures';
import { startSmsGatewayDouble, startSmtpCatcher, type SmsGatewayDouble, type SmtpCatcher } from './notify-doubles';

const SMS_KEY = 'test-sms-key';
export const CALLBACK_TOKEN = 'sms-callback-token-0123456789';
/** Never quiet (from = to), quick retries: the scenarios that are not about time. */
const TEST_POLICY: NotifyPolicy = {
  ...DEFAULT_NOTIFY_POLICY,
  quietFromMinute: 0,
  quietToMinute: 0,
  attemptsPerChannel: 3,
  retryInitialSeconds: 0.2,
  retryMaxSeconds: 1,
  sendTimeoutSeconds: 5,
  smsReportSeconds: 4,
};

let engine: TestEngine;
let smtp: SmtpCatcher;
let sms: SmsGatewayDouble;
let relay: DeliveryRelay;
beforeAll(async () => {
  smtp = await startSmtpCatcher();
  sms = await startSmsGatewayDouble(SMS_KEY);
  engine = await startTestEngine({
    configOverrides: {
      SMTP_URL: smtp.url,
      SMS_GATEWAY_URL: sms.url,
      SMS_GATEWAY_KEY: SMS_KEY,
      SMS_CALLBACK_TOKEN: CALLBACK_TOKEN,
      PUBLIC_BASE_URL: 'https://clinics.example',
    },
  });
  relay = await startDeliveryRelay({
    db: engine.db,
    client: engine.client,
    taskQueue: engine.config.CLINICAL_TASK_QUEUE,
    databaseUrl: engine.config.DATABASE_URL!,
    policy: TEST_POLICY,
    logger: createLogger('relay', 'silent'),
  });
});
afterAll(async () => {
  await relay?.close();
  await engine?.stop();
  await smtp?.close();
  await sms?.close();
});

const contacts = (patientId: string, points: ContactPoint[]) =>
  saveContactPoints(engine.db, { type: 'patient', id: patientId }, points, 'test');
const email = (address: string, extra: Partial<ContactPoint> = {}): ContactPoint => ({
  channel: 'email',
  address,
  consent: true,
  preferred: false,
  ...extra,
});
const phone = (address: string, extra: Partial<ContactPoint> = {}): ContactPoint => ({
  channel: 'sms',
  address,
  consent: true,
  preferred: false,
  ...extra,
});
const mailTo = (address: string) => smtp.messages.filter((m) => m.to.includes(address));
const deliveriesOf = (patientId: string) =>
  engine.db.selectFrom('deliveries').selectAll().where('recipient_id', '=', patientId).orderBy('queued_at').execute();
/** The row a process writes when it decides to tell a patient something (as activities/booking.ts does). */
async function decide(
  patientId: string,
  kind: 'reminder' | 'cancelled' | 'rescheduled' | 'waitlist-offer',
  appointmentId: string | null = null,
  // The test starts its delivery itself: the row is born dispatched, so no relay (this engine's or
  // a parallel suite's on the same Postgres) can claim it and start the same workflow first.
  opts: { startedHere?: boolean } = {},
) {
  return engine.db
    .insertInto('notifications')
    .values({
      patient_id: patientId,
      appointment_id: appointmentId,
      kind,
      dedupe_key: `test:${randomUUID()}`,
      ...(opts.startedHere ? { dispatched_at: new Date() } : {}),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
}
const settle = () => new Promise((r) => setTimeout(r, 1500));

async function bookedVisit(patientId: string) {
  const clinic = await makeClinic(engine.db, { policy: { reminderLeadSeconds: 3 * 86_400 } });
  const slot = await makeSlot(engine.db, clinic, daysFromNow(1, 7));
  const token = await engine.token('patient', { id: `patient-${patientId}`, patientId });
  const held = await engine.app.request('/appointments', {
    ...jsonRequest('POST', token, { slotId: slot.id, patientId }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() },
  });
  expect(held.status).toBe(201);
  const id = ((await held.json()) as { id: string }).id;
  const confirmed = await engine.app.request(`/appointments/${id}/confirm`, jsonRequest('POST', token));
  expect(confirmed.status).toBe(200);
  return { clinic, slot, appointmentId: id };
}

describe('messages reach patients', () => {
  test('final lab results tell the patient "your results are ready" by e-mail, with a sign-in link and no value', async () => {
    const clinic = await makeLabClinic(engine.db);
    const api = labApi(engine, clinic);
    const patientId = await makeLabPatient(engine.db);
    const address = `res-${patientId.slice(0, 8)}@patients.example`;
    await contacts(patientId, [email(address, { preferred: true })]);
    const order = (await api.order(patientId, ['2345-7'], 'routine')).body.id as string;
    await api.collectAndReceive(order);
    expect((await api.post(order, [{ loinc: '2345-7', value: 5.4, unit: 'mmol/L' }])).status).toBe(200);

    const [mail] = await eventually(async () => (mailTo(address).length ? mailTo(address) : null), 20_000, 'the results-ready e-mail');
    await settle();
    expect(mailTo(address)).toHaveLength(1);
    expect(mail!.headers.subject).toBe('Результаты готовы / Your results are ready');
    expect(mail!.text).toContain(`https://clinics.example/records/${patientId}/results`);
    expect(mail!.text).not.toMatch(/5[.,]4|glucose|глюкоз|2345-7/i);
    const rows = await deliveriesOf(patientId);
    expect(rows.map((r) => [r.kind, r.channel, r.status])).toEqual([['results-ready', 'email', 'sent']]);
  });

  test("the booking process reminds a patient of tomorrow's visit by e-mail, once, in Russian then English, with no specialty and a sign-in link", async () => {
    const patientId = await makePatient(engine.db);
    await contacts(patientId, [
      email(`rem-${patientId.slice(0, 8)}@patients.example`, { preferred: true }),
      { channel: 'app', address: null, consent: true, preferred: false },
    ]);
    const { appointmentId, slot } = await bookedVisit(patientId);

    const [mail] = await eventually(
      async () => {
        const m = mailTo(`rem-${patientId.slice(0, 8)}@patients.example`);
        return m.length ? m : null;
      },
      20_000,
      'the reminder e-mail',
    );
    await settle();
    expect(mailTo(`rem-${patientId.slice(0, 8)}@patients.example`)).toHaveLength(1);
    expect(mail!.headers.subject).toBe('Напоминание о приёме / Visit reminder');
    expect(mail!.headers['message-id']).toMatch(/^<[0-9a-f-]{36}@clinic\.local>$/);
    expect(mail!.headers['x-delivery-key']).toMatch(/^n-[0-9a-f-]{36}:email$/);
    const local = localDateTime(slot.startsAt, 'Europe/Moscow');
    expect(mail!.text).toContain(
      `Напоминаем: у вас приём ${local.slice(8, 10)}.${local.slice(5, 7)}.${local.slice(0, 4)} в ${local.slice(11)}, Test clinic.`,
    );
    expect(mail!.text).toContain(`https://clinics.example/patient/appointments/${appointmentId}`);
    expect(mail!.text.indexOf('Напоминаем')).toBeLessThan(mail!.text.indexOf('A reminder'));
    expect(mail!.text).not.toMatch(/cardiology/i);

    const rows = await deliveriesOf(patientId);
    expect(rows.map((r) => [r.kind, r.channel, r.status, r.attempts, r.appointment_id])).toEqual([
      ['reminder', 'email', 'sent', 1, appointmentId],
    ]);
    expect(rows[0]!.provider_id).toBe(mail!.headers['message-id']);
  });

  test("a patient who opted out of e-mail is told by SMS only, and the gateway's delivery report marks it delivered", async () => {
    const patientId = await makePatient(engine.db);
    const address = `optout-${patientId.slice(0, 8)}@patients.example`;
    await contacts(patientId, [email(address, { consent: false, preferred: true }), phone('+7 (916) 555-01-02'.replace(/[^+\d]/g, ''))]);
    const { id } = await decide(patientId, 'cancelled');

    const call = await eventually(async () => sms.calls.find((c) => c.to === '79165550102' && c.smsId), 20_000, 'the SMS');
    expect(call.msg).toMatch(
      /^Ваш приём в назначенное время отменён\. Запишитесь на другое время\. https:\/\/clinics\.example\/patient\/inbox$/,
    );
    expect(call.apiId).toBe(SMS_KEY);
    // A report names the gateway's id, which our row holds once it is marked sent (a moment after the gateway answered).
    await eventually(async () => (await deliveriesOf(patientId)).find((r) => r.provider_id === call.smsId), 10_000, 'marked sent');
    const report = new URLSearchParams({ 'data[0]': `sms_status\n${call.smsId}\n103\n${Math.floor(Date.now() / 1000)}` });
    const res = await engine.app.request(`/notifications/sms-status?token=${CALLBACK_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: report.toString(),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('100');
    await eventually(async () => (await deliveriesOf(patientId)).find((r) => r.status === 'delivered'), 10_000, 'delivered');
    await settle();
    expect(mailTo(address)).toHaveLength(0);
    expect((await deliveriesOf(patientId)).map((r) => [r.message_key, r.channel, r.status])).toEqual([[`n-${id}`, 'sms', 'delivered']]);
  });

  test('a failing SMS gateway falls back to e-mail; when e-mail is refused too, the message goes to ops', async () => {
    sms.mode = 'fail';
    try {
      const patientId = await makePatient(engine.db);
      const address = `fallback-${patientId.slice(0, 8)}@patients.example`;
      await contacts(patientId, [phone('79160000001', { preferred: true }), email(address)]);
      await decide(patientId, 'rescheduled');
      const [mail] = await eventually(
        async () => {
          const m = mailTo(address);
          return m.length ? m : null;
        },
        30_000,
        'the fallback e-mail',
      );
      expect(mail!.headers.subject).toBe('Приём перенесён / Visit moved');
      const rows = await deliveriesOf(patientId);
      expect(rows.map((r) => [r.channel, r.status, r.attempts])).toEqual([
        ['sms', 'failed', 3],
        ['email', 'sent', 1],
      ]);
      expect(rows[0]!.reason).toMatch(/^Busy: the SMS gateway answered 500/);
      expect(sms.calls.filter((c) => c.to === '79160000001')).toHaveLength(3);

      const unlucky = await makePatient(engine.db);
      const refused = `nobody-${unlucky.slice(0, 8)}@patients.example`;
      smtp.refuse.add(refused);
      await contacts(unlucky, [phone('79160000002', { preferred: true }), email(refused)]);
      await decide(unlucky, 'rescheduled');
      const ops = await eventually(
        async () => (await deliveriesOf(unlucky)).find((r) => r.channel === 'ops'),
        30_000,
        'the hand-off to ops',
      );
      expect(ops).toMatchObject({ status: 'failed', reason: 'all-channels-failed', recipient_type: 'patient' });
      const all = await deliveriesOf(unlucky);
      expect(all.map((r) => [r.channel, r.status])).toEqual([
        ['sms', 'failed'],
        ['email', 'failed'],
        ['ops', 'failed'],
      ]);
      // 550 is final: one attempt, no retries.
      expect(all[1]).toMatchObject({ attempts: 1, reason: 'Undeliverable: the mail server refused the message (550)' });
    } finally {
      sms.mode = 'ok';
    }
  });

  test('a patient without any channel is on the ops list of unreachable patients', async () => {
    const patientId = await makePatient(engine.db);
    await contacts(patientId, [phone('79160000003', { consent: false })]);
    await decide(patientId, 'reminder');
    await eventually(
      async () => (await unreachablePatients(engine.db)).find((p) => p.patient_id === patientId),
      20_000,
      'on the unreachable list',
    );
    expect((await deliveriesOf(patientId)).map((r) => [r.channel, r.status, r.reason])).toEqual([['ops', 'failed', 'no-channel']]);
    expect(sms.calls.filter((c) => c.to === '79160000003')).toHaveLength(0);
  });

  test("a reminder due at 23:00 in the clinic's zone waits for 09:00 (the clinic clock runs an hour a second here)", async () => {
    const zone = 'Asia/Yekaterinburg';
    const clinic = await makeClinic(engine.db, { timeZone: zone });
    const patientId = await makePatient(engine.db);
    const address = `night-${patientId.slice(0, 8)}@patients.example`;
    await contacts(patientId, [email(address)]);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(2));
    const apptId = await makeBookedRow(engine.db, clinic, slot, patientId);
    const row = await decide(patientId, 'reminder', apptId, { startedHere: true });
    const today = localDateTime(new Date(), zone).slice(0, 10);
    const elevenPm = startOfLocalDay(today, zone).getTime() + 23 * 3600_000;
    const policy: NotifyPolicy = {
      ...TEST_POLICY,
      quietFromMinute: 21 * 60,
      quietToMinute: 9 * 60,
      clock: { realEpochMs: Date.now(), localEpochMs: elevenPm, scale: 3600 },
    };
    const handle = await engine.client.workflow.start(notifyWorkflow, {
      workflowId: notifyWorkflowId(`n-${row.id}`),
      taskQueue: engine.config.CLINICAL_TASK_QUEUE,
      args: [
        {
          messageKey: `n-${row.id}`,
          kind: 'reminder',
          recipient: { type: 'patient', id: patientId },
          decidedAt: new Date().toISOString(),
          refs: { appointmentId: apptId, labOrderId: null, referralId: null },
          policy,
        },
      ],
    });
    const queued = await eventually(async () => (await deliveriesOf(patientId))[0], 10_000, 'queued');
    expect(queued.status).toBe('queued');
    expect(localDateTime(queued.not_before!, zone)).toBe(`${localDateTime(new Date(elevenPm + 86_400_000), zone).slice(0, 10)}T09:00`);
    // Three real seconds in: 02:00 on the clinic clock, nothing sent.
    await new Promise((r) => setTimeout(r, 3000));
    expect(mailTo(address)).toHaveLength(0);
    expect(await handle.result()).toMatchObject({ outcome: 'sent', channel: 'email' });
    expect(mailTo(address)).toHaveLength(1);
  });
});

/** A worker in a child process (tests/notify-worker-child.ts) on its own task queue; resolves once it polls. */
async function workerChild(taskQueue: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/notify-worker-child.ts'], {
    env: { ...process.env, NOTIFY_TASK_QUEUE: taskQueue, SMTP_URL: smtp.url, PUBLIC_BASE_URL: 'https://clinics.example' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await eventually(async () => out.includes('worker ready') || child.exitCode !== null, 60_000, 'the worker child');
  if (child.exitCode !== null) throw new Error(`worker child exited: ${out}`);
  return child;
}

describe('a delivery survives its worker', () => {
  test('a reminder is delivered exactly once when the worker is SIGKILLed in the middle of sending it', async () => {
    const queue = `notify-kill-${randomUUID().slice(0, 8)}`;
    const patientId = await makePatient(engine.db);
    const address = `kill-${patientId.slice(0, 8)}@patients.example`;
    await contacts(patientId, [email(address)]);
    const row = await decide(patientId, 'reminder', null, { startedHere: true });
    const first = await workerChild(queue);
    let second: ChildProcess | null = null;
    // The first SMTP conversation: kill the worker while the server holds its answer to MAIL FROM.
    let killed!: () => void;
    const whenKilled = new Promise<void>((r) => {
      killed = r;
    });
    smtp.onMailFrom = async () => {
      smtp.onMailFrom = null;
      first.kill('SIGKILL');
      killed();
    };
    try {
      const handle = await engine.client.workflow.start(notifyWorkflow, {
        workflowId: notifyWorkflowId(`n-${row.id}`),
        taskQueue: queue,
        args: [
          {
            messageKey: `n-${row.id}`,
            kind: 'reminder',
            recipient: { type: 'patient', id: patientId },
            decidedAt: new Date().toISOString(),
            refs: { appointmentId: null, labOrderId: null, referralId: null },
            policy: { ...TEST_POLICY, sendTimeoutSeconds: 3 },
          },
        ],
      });
      await whenKilled;
      expect((await deliveriesOf(patientId))[0]).toMatchObject({ status: 'sending', attempts: 1 });
      second = await workerChild(queue);
      expect(await handle.result()).toMatchObject({ outcome: 'sent', channel: 'email' });
      await settle();
      const arrived = mailTo(address);
      expect(arrived).toHaveLength(1);
      const [delivery] = await deliveriesOf(patientId);
      expect(delivery).toMatchObject({ status: 'sent', attempts: 2, provider_id: arrived[0]!.headers['message-id'] });
    } finally {
      smtp.onMailFrom = null;
      first.kill('SIGKILL');
      second?.kill('SIGTERM');
    }
    // Two worker processes start here (each compiles its bundle): slow on a loaded CI machine.
  }, 240_000);
});

describe('a waitlist offer in the night', () => {
  test('an offer made at 23:00 is told at 09:00, and its hold is extended by the wait', async () => {
    const zone = 'Europe/Moscow';
    const clinic = await makeClinic(engine.db, { timeZone: zone, policy: { offerHoldSeconds: 60 } });
    const [alice, carol] = [await makePatient(engine.db), await makePatient(engine.db)];
    const address = `offer-${carol.slice(0, 8)}@patients.example`;
    await contacts(carol, [email(address)]);
    const registrar = await engine.token('registrar', { clinicId: clinic.clinicId });
    const post = (path: string, body: unknown) =>
      engine.app.request(path, {
        ...jsonRequest('POST', registrar, body),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${registrar}`, 'idempotency-key': randomUUID() },
      });
    const waited = await post('/waitlist', {
      patientId: carol,
      specialty: clinic.specialty,
      practitionerId: clinic.practitionerId,
      wantedBefore: daysFromNow(30).toISOString(),
    });
    expect(waited.status).toBe(201);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(3, 8));
    const held = await post('/appointments', { slotId: slot.id, patientId: alice, confirm: true });
    expect(held.status).toBe(201);
    const aliceVisit = ((await held.json()) as { id: string }).id;
    const cancelled = await post(`/appointments/${aliceVisit}/cancel`, { reason: 'test' });
    expect(cancelled.status).toBe(200);
    const offer = await eventually(
      () =>
        engine.db
          .selectFrom('appointments')
          .select(['id', 'hold_expires_at'])
          .where('slot_id', '=', slot.id)
          .where('status', '=', 'offered')
          .executeTakeFirst(),
      20_000,
      'the offer',
    );
    const before = offer.hold_expires_at!.getTime();
    // The relay already told Carol (the test relay knows no night); this is the same offer told by a process whose clinic clock reads 23:00.
    const today = localDateTime(new Date(), zone).slice(0, 10);
    const policy: NotifyPolicy = {
      ...TEST_POLICY,
      quietFromMinute: 21 * 60,
      quietToMinute: 9 * 60,
      clock: { realEpochMs: Date.now(), localEpochMs: startOfLocalDay(today, zone).getTime() + 23 * 3600_000, scale: 3600 },
    };
    const result = await engine.client.workflow.execute(notifyWorkflow, {
      workflowId: notifyWorkflowId(`night-${offer.id}`),
      taskQueue: engine.config.CLINICAL_TASK_QUEUE,
      args: [
        {
          messageKey: `night-${offer.id}`,
          kind: 'waitlist-offer',
          recipient: { type: 'patient', id: carol },
          decidedAt: new Date().toISOString(),
          refs: { appointmentId: offer.id, labOrderId: null, referralId: null },
          policy,
        },
      ],
    });
    expect(result).toMatchObject({ outcome: 'sent', channel: 'email' });
    expect(result.heldBackMs).toBeGreaterThan(0);
    const after = await engine.db
      .selectFrom('appointments')
      .select(['status', 'hold_expires_at'])
      .where('id', '=', offer.id)
      .executeTakeFirstOrThrow();
    expect(after.status).toBe('offered');
    expect(after.hold_expires_at!.getTime() - before).toBe(result.heldBackMs);
    const night = mailTo(address).find((m) => m.headers['x-delivery-key'] === `night-${offer.id}:email`)!;
    expect(night.text).toContain(`до ${localDateTime(after.hold_expires_at!, zone).replace(/^(\d{4})-(\d{2})-(\d{2})T/, '$3.$2.$1 в ')}`);
  });
});

describe('critical values reach named doctors', () => {
  test("a critical potassium reaches the ordering doctor's inbox; unacknowledged, it goes to the covering doctor and then the head the roster names at that moment", async () => {
    const clinic = await makeLabClinic(engine.db, { escalateCoveringSeconds: 3, escalateHeadSeconds: 6 });
    const [cover, head] = await engine.db
      .insertInto('practitioners')
      .values([
        { clinic_id: clinic.clinicId, full_name: 'Dr Roster Cover', specialty: 'general-practice' },
        { clinic_id: clinic.clinicId, full_name: 'Dr Roster Head', specialty: 'general-practice' },
      ])
      .returning('id')
      .execute();
    const window = { startsAt: new Date(Date.now() - 3600_000).toISOString(), endsAt: new Date(Date.now() + 3600_000).toISOString() };
    await addRosterEntry(
      engine.db,
      { clinicId: clinic.clinicId, department: 'general-practice', role: 'covering', practitionerId: cover!.id, ...window },
      'ops-test',
    );
    await addRosterEntry(
      engine.db,
      { clinicId: clinic.clinicId, department: '*', role: 'head', practitionerId: head!.id, ...window },
      'ops-test',
    );
    const api = labApi(engine, clinic);
    const patientId = await makeLabPatient(engine.db);
    const created = await api.order(patientId, ['2823-3'], 'stat');
    await api.collectAndReceive(created.body.id);
    expect((await api.post(created.body.id, [{ loinc: '2823-3', value: 6.8, unit: 'mmol/L' }])).status).toBe(200);

    const inbox = () =>
      engine.db
        .selectFrom('inbox_messages')
        .select(['recipient_id', 'kind', 'subject', 'body'])
        .where('delivery_key', 'like', 'l-%')
        .where('recipient_id', 'in', [clinic.doctorId, cover!.id, head!.id])
        .orderBy('created_at')
        .execute();
    const messages = await eventually(
      async () => {
        const m = await inbox();
        return m.length === 3 ? m : null;
      },
      30_000,
      'three inbox messages',
    );
    expect(messages.map((m) => [m.recipient_id, m.kind])).toEqual([
      [clinic.doctorId, 'critical-result'],
      [cover!.id, 'critical-escalation-covering'],
      [head!.id, 'critical-escalation-head'],
    ]);
    expect(messages[0]!.subject).toBe('СРОЧНО: критический результат анализа / URGENT: critical lab result');
    expect(messages.every((m) => !m.body.includes('6.8'))).toBe(true);
    const steps = await engine.db
      .selectFrom('lab_critical_notifications')
      .select(['step', 'recipient_practitioner_id'])
      .where('lab_order_id', '=', created.body.id)
      .orderBy('notified_at')
      .execute();
    expect(steps.map((s) => [s.step, s.recipient_practitioner_id])).toEqual([
      ['ordering', clinic.doctorId],
      ['covering', cover!.id],
      ['head', head!.id],
    ]);
    const events = await engine.db
      .selectFrom('lab_order_events')
      .select(['kind', 'details'])
      .where('lab_order_id', '=', created.body.id)
      .where('kind', 'like', 'critical-notified-%')
      .orderBy('at')
      .execute();
    expect(events.map((e) => (e.details as { practitionerName: string }).practitionerName)).toEqual([
      'Dr Order',
      'Dr Roster Cover',
      'Dr Roster Head',
    ]);

    // The covering doctor the roster named acknowledges it with the read-back; a doctor nobody told may not.
    const ack = (practitionerId: string, id: string) =>
      engine
        .token('doctor', { id, practitionerId })
        .then((token) =>
          engine.app.request(
            `/lab-orders/${created.body.id}/acknowledge`,
            jsonRequest('POST', token, { readBack: [{ loinc: '2823-3', value: 6.8, unit: 'mmol/L' }] }),
          ),
        );
    const [stranger] = await engine.db
      .insertInto('practitioners')
      .values({ clinic_id: clinic.clinicId, full_name: 'Dr Not On Call', specialty: 'general-practice' })
      .returning('id')
      .execute();
    expect((await ack(stranger!.id, 'dr-stranger')).status).toBe(403);
    const answer = await ack(cover!.id, 'dr-roster-cover');
    expect(answer.status).toBe(200);
    const order = await engine.db
      .selectFrom('lab_orders')
      .select(['status', 'acknowledged_by'])
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(order).toEqual({ status: 'acknowledged', acknowledged_by: cover!.id });
  });
});
