/**
 * Messages to staff and an SMS that survives a kill (issue 23, remaining gaps), with real parts:
 * the engine and Temporal, Postgres, the delivery relay, and an SMSC.ru gateway double over HTTP.
 * A referral about to breach tells the head of department on the roster; an overdue onboarding
 * task tells the clinic's onboarding lead; an SMS the gateway took before the worker died is not
 * sent again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { addRosterEntry, saveContactPoints } from '../db/notify';
import { DEFAULT_NOTIFY_POLICY, type NotifyPolicy } from '../domain/notify';
import { createLogger } from '../platform/logger';
import { startDeliveryRelay, type DeliveryRelay } from '../workers/notify-relay';
import { notifyWorkflow, notifyWorkflowId } from '../workflows/notify';
import { makePatient, makeReferralClinic } from './fixtures';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';
import { startSmscGatewayDouble, type SmscGatewayDouble } from './notify-doubles-smsc';
import { fastPolicy, makeOnboardingClinic } from './onboarding-fixtures';

const TEST_POLICY: NotifyPolicy = {
  ...DEFAULT_NOTIFY_POLICY,
  quietFromMinute: 0,
  quietToMinute: 0,
  attemptsPerChannel: 3,
  retryInitialSeconds: 0.2,
  retryMaxSeconds: 1,
  sendTimeoutSeconds: 5,
  smsReportSeconds: 1,
};

let engine: TestEngine;
let relay: DeliveryRelay;
let smsc: SmscGatewayDouble;
beforeAll(async () => {
  smsc = await startSmscGatewayDouble('clinic', 'secret');
  engine = await startTestEngine({ configOverrides: { PUBLIC_BASE_URL: 'https://clinics.example' } });
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
  await smsc?.close();
});

async function call(method: string, path: string, token: string, body?: unknown) {
  const init = jsonRequest(method, token, body);
  (init.headers as Record<string, string>)['idempotency-key'] = randomUUID();
  const res = await engine.app.request(path, init);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function practitioner(clinicId: string, fullName: string, specialty: string): Promise<string> {
  const row = await engine.db
    .insertInto('practitioners')
    .values({ clinic_id: clinicId, full_name: fullName, specialty })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

const onRoster = (clinicId: string, department: string, role: 'head' | 'onboarding-lead', practitionerId: string) =>
  addRosterEntry(
    engine.db,
    {
      clinicId,
      department,
      role,
      practitionerId,
      startsAt: new Date(Date.now() - 3600_000).toISOString(),
      endsAt: new Date(Date.now() + 3600_000).toISOString(),
    },
    'test-ops',
  );

const inboxOf = (practitionerId: string) =>
  engine.db
    .selectFrom('inbox_messages')
    .selectAll()
    .where('recipient_type', '=', 'practitioner')
    .where('recipient_id', '=', practitionerId)
    .orderBy('created_at')
    .execute();
const deliveriesTo = (practitionerId: string) =>
  engine.db.selectFrom('deliveries').selectAll().where('recipient_id', '=', practitionerId).orderBy('queued_at').execute();

const referralClinic = (waitSeconds: number, escalationShare: number) => makeReferralClinic(engine.db, { waitSeconds, escalationShare });

describe('messages reach staff', () => {
  test("a referral about to breach its waiting time tells the head of the referring doctor's department on the roster", async () => {
    // Wait 6 s, escalated at half of it: "about to breach" at 3 s, breached at 6 s; no slots, so it stays unbooked.
    const clinic = await referralClinic(6, 0.5);
    const referringDepartment = (
      await engine.db.selectFrom('practitioners').select('specialty').where('id', '=', clinic.otherPractitionerId).executeTakeFirstOrThrow()
    ).specialty;
    const head = await practitioner(clinic.clinicId, 'Dr Head Of Department', referringDepartment);
    const clinicWide = await practitioner(clinic.clinicId, 'Dr Clinic Wide', 'therapy');
    await onRoster(clinic.clinicId, '*', 'head', clinicWide);
    await onRoster(clinic.clinicId, referringDepartment, 'head', head);
    const patientId = await makePatient(engine.db);
    const doctor = await engine.token('doctor', { id: `doctor-${clinic.otherPractitionerId}`, practitionerId: clinic.otherPractitionerId });
    const created = await call('POST', '/referrals', doctor, {
      patientId,
      referringPractitionerId: clinic.otherPractitionerId,
      specialty: clinic.specialty,
      reason: 'synthetic reason',
      icd10: 'I20.8',
    });
    expect(created.status).toBe(201);
    const referralId = created.body.id as string;

    const inbox = await eventually(async () => ((await inboxOf(head)).length >= 2 ? inboxOf(head) : null), 60_000, 'both messages');
    expect(inbox.map((m) => m.kind)).toEqual(['referral-near-breach', 'referral-breached']);
    expect(inbox[0]!.subject).toContain('Направление близко к нарушению срока ожидания');
    for (const m of inbox) {
      // Nothing of the patient: no name, no diagnosis code, no specialty; a sign-in link.
      expect(m.body).not.toMatch(/Test Patient|I20\.8|cardiology|neurology|synthetic reason/);
      expect(m.link).toBe('https://clinics.example/doctor/inbox');
    }
    expect(await inboxOf(clinicWide)).toEqual([]);

    const deliveries = await deliveriesTo(head);
    expect(deliveries.map((d) => [d.kind, d.channel, d.status, d.referral_id])).toEqual([
      ['referral-near-breach', 'app', 'delivered', referralId],
      ['referral-breached', 'app', 'delivered', referralId],
    ]);
    const outbox = await engine.db
      .selectFrom('staff_notifications')
      .selectAll()
      .where('referral_id', '=', referralId)
      .orderBy('created_at')
      .execute();
    expect(outbox.map((r) => [r.kind, r.practitioner_id, r.clinic_id])).toEqual([
      ['referral-near-breach', head, clinic.clinicId],
      ['referral-breached', head, clinic.clinicId],
    ]);
    // The timeline says who was told, beside the escalation itself.
    const events = await engine.db
      .selectFrom('referral_events')
      .select(['step', 'details'])
      .where('referral_id', '=', referralId)
      .orderBy('at')
      .execute();
    expect(events.map((e) => e.step)).toEqual(
      expect.arrayContaining(['escalated-registrar-queue', 'breached-escalated-head-of-department', 'staff-notified']),
    );
    expect(events.filter((e) => e.step === 'staff-notified').map((e) => e.details)).toEqual([
      expect.objectContaining({
        level: 1,
        kind: 'referral-near-breach',
        role: 'head',
        practitionerId: head,
        practitionerName: 'Dr Head Of Department',
        source: 'roster',
      }),
      expect.objectContaining({ level: 2, kind: 'referral-breached', practitionerId: head, source: 'roster' }),
    ]);
    const row = await engine.db
      .selectFrom('referrals')
      .select(['breached', 'escalation_level'])
      .where('id', '=', referralId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ breached: true, escalation_level: 2 });
  });

  test("an overdue onboarding task tells the clinic's onboarding lead on the roster; with nobody on it, ops", async () => {
    const clinic = await makeOnboardingClinic(engine.db);
    const lead = await practitioner(clinic.clinicId, 'Dr Onboarding Lead', 'administration');
    await onRoster(clinic.clinicId, '*', 'onboarding-lead', lead);
    const unstaffed = await makeOnboardingClinic(engine.db);
    const admin = await engine.token('admin');
    // Deadlines 3 s in, the next escalation far away: one message per overdue task.
    const policy = fastPolicy({ taskDeadlineSeconds: { preparation: 3 }, reminderLeadSeconds: 1, escalationStepSeconds: 3600 });
    for (const id of [clinic.clinicId, unstaffed.clinicId])
      expect((await call('POST', `/onboarding/${id}/start`, admin, { policy })).status).toBeLessThan(300);

    const told = await eventually(async () => ((await inboxOf(lead)).length > 0 ? inboxOf(lead) : null), 60_000, "the lead's inbox");
    expect(told[0]).toMatchObject({ kind: 'onboarding-task-overdue', subject: expect.stringContaining('Просрочена задача подключения') });
    const [delivery] = await deliveriesTo(lead);
    expect(delivery).toMatchObject({
      kind: 'onboarding-task-overdue',
      recipient_type: 'practitioner',
      channel: 'app',
      status: 'delivered',
    });
    const events = await engine.db
      .selectFrom('onboarding_events')
      .select(['kind', 'details'])
      .where('clinic_id', '=', clinic.clinicId)
      .where('kind', '=', 'staff-notified')
      .execute();
    expect(events[0]!.details).toMatchObject({
      level: 1,
      role: 'onboarding-lead',
      practitionerId: lead,
      practitionerName: 'Dr Onboarding Lead',
      source: 'roster',
    });

    // Nobody named: the message is ops' to act on (GET /ops/notifications/failures).
    const handedToOps = await eventually(
      async () => {
        const rows = await engine.db.selectFrom('staff_notifications').select('id').where('clinic_id', '=', unstaffed.clinicId).execute();
        if (!rows.length) return undefined;
        return engine.db
          .selectFrom('deliveries')
          .select(['channel', 'reason', 'kind', 'recipient_type'])
          .where(
            'message_key',
            'in',
            rows.map((r) => `s-${r.id}`),
          )
          .executeTakeFirst();
      },
      60_000,
      'the unstaffed clinic handed to ops',
    );
    expect(handedToOps).toEqual({ channel: 'ops', reason: 'no-recipient', kind: 'onboarding-task-overdue', recipient_type: 'ops' });
    const failures = await engine.app.request('/ops/notifications/failures', jsonRequest('GET', await engine.token('ops')));
    expect(failures.status).toBe(200);
    expect(JSON.stringify(await failures.json())).toContain('onboarding-task-overdue');
  });
});

/** A delivery worker in a child process (tests/notify-worker-child.ts) speaking SMSC.ru to the double. */
async function workerChild(taskQueue: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/notify-worker-child.ts'], {
    env: {
      ...process.env,
      NOTIFY_TASK_QUEUE: taskQueue,
      SMS_GATEWAY_URL: smsc.url,
      SMS_GATEWAY_KIND: 'smsc',
      SMS_GATEWAY_KEY: 'clinic:secret',
      PUBLIC_BASE_URL: 'https://clinics.example',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await eventually(async () => out.includes('worker ready') || child.exitCode !== null, 60_000, 'the worker child');
  if (child.exitCode !== null) throw new Error(`worker child exited: ${out}`);
  return child;
}

describe('an SMS survives its worker', () => {
  test('an SMS the gateway took is not sent again when the worker was SIGKILLed before recording it', async () => {
    const queue = `notify-sms-kill-${randomUUID().slice(0, 8)}`;
    const patientId = await makePatient(engine.db);
    await saveContactPoints(
      engine.db,
      { type: 'patient', id: patientId },
      [{ channel: 'sms', address: '89123456789', consent: true, preferred: true }],
      'test',
    );
    const messageKey = `sms-kill-${randomUUID()}`;
    const first = await workerChild(queue);
    let second: ChildProcess | null = null;
    let killed!: () => void;
    const whenKilled = new Promise<void>((r) => (killed = r));
    // The gateway has taken the message; the worker dies before it reads the answer or records "sent".
    smsc.onSend = () => {
      smsc.onSend = null;
      first.kill('SIGKILL');
      killed();
    };
    try {
      const handle = await engine.client.workflow.start(notifyWorkflow, {
        workflowId: notifyWorkflowId(messageKey),
        taskQueue: queue,
        args: [
          {
            messageKey,
            kind: 'reminder',
            recipient: { type: 'patient', id: patientId },
            decidedAt: new Date().toISOString(),
            refs: { appointmentId: null, labOrderId: null, referralId: null },
            policy: { ...TEST_POLICY, sendTimeoutSeconds: 3 },
          },
        ],
      });
      await whenKilled;
      const row = () =>
        engine.db.selectFrom('deliveries').selectAll().where('dedupe_key', '=', `${messageKey}:sms`).executeTakeFirstOrThrow();
      expect(await row()).toMatchObject({ status: 'sending', attempts: 1 });
      second = await workerChild(queue);
      expect(await handle.result()).toMatchObject({ outcome: 'sent', channel: 'sms' });
      const sends = smsc.sends.filter((s) => s.phones === '79123456789');
      expect(sends).toHaveLength(1);
      // The retry asked the gateway about our id first, and it had the message.
      expect(smsc.lookups).toEqual(expect.arrayContaining([{ phone: '79123456789', id: sends[0]!.id, status: 0 }]));
      expect(await row()).toMatchObject({ status: 'sent', attempts: 2, provider_id: sends[0]!.id });
      expect(sends[0]!.mes).not.toMatch(/Test Patient/);
    } finally {
      smsc.onSend = null;
      first.kill('SIGKILL');
      second?.kill('SIGTERM');
    }
    // Two worker processes start here (each compiles its bundle): slow on a loaded machine.
  }, 240_000);
});
