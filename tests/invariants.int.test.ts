/**
 * The invariant checker (workers/invariants.ts) against a real engine: a clean run finds nothing;
 * then each rule is broken on purpose, by writing rows past the app or stopping a process, and
 * must report exactly that rule with exactly those ids. Each test works in clinics of its own and
 * checks only them (and this engine's task queue), so other files' processes never show up here.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { referralStart } from '../db/referral';
import { checkInvariants, runInvariants, type Violation } from '../workers/invariants';
import { referralWorkflow, referralWorkflowId } from '../workflows/referral';
import { makeBookedRow, makeClinic, makePatient, makeReferralClinic, makeShortSlot, makeSlot, type TestClinic } from './fixtures';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';
import { labApi, makeLabClinic, makeLabPatient, LIPIDS_MMOL } from './lab-fixtures';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

type Json = Record<string, any>;
type Found = Pick<Violation, 'rule' | 'ids'>;

const check = (clinicIds: string[], settleMs = 0) =>
  checkInvariants(
    { db: engine.db, temporal: engine.client, namespace: engine.config.TEMPORAL_NAMESPACE },
    { settleMs, clinicIds, taskQueue: engine.config.CLINICAL_TASK_QUEUE },
  );
const key = (v: Found) => `${v.rule} ${JSON.stringify(Object.entries(v.ids).sort())}`;
/** Waits until the check of these clinics reports exactly `expected` (rule and ids), and returns what it reported. */
async function reports(clinicIds: string[], expected: Found[]): Promise<Violation[]> {
  const want = expected.map(key).sort();
  let last: Violation[] = [];
  try {
    await eventually(
      async () => {
        last = await check(clinicIds);
        return JSON.stringify(last.map(key).sort()) === JSON.stringify(want);
      },
      30_000,
      'the expected violations',
    );
  } catch {
    // Show what was found instead of a bare timeout.
  }
  expect(last.map(key).sort()).toEqual(want);
  return last;
}

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const init = jsonRequest(method, token, body);
  (init.headers as Record<string, string>)['idempotency-key'] = `inv-${randomUUID()}`;
  const res = await engine.app.request(path, init);
  return { status: res.status, body: (await res.json()) as Json };
}
const registrar = (clinicId: string) => engine.token('registrar', { clinicId });
const appointmentStatus = async (id: string) =>
  (await engine.db.selectFrom('appointments').select('status').where('id', '=', id).executeTakeFirst())?.status;

/** Books and confirms a slot through the API; returns the appointment id once its row says booked. */
async function bookAndConfirm(clinic: TestClinic, slotId: string, patientId: string): Promise<string> {
  const booked = await call('POST', '/appointments', await registrar(clinic.clinicId), { slotId, patientId });
  expect(booked.status).toBe(201);
  const id = booked.body.id as string;
  if (booked.body.status !== 'booked')
    expect((await call('POST', `/appointments/${id}/confirm`, await registrar(clinic.clinicId))).status).toBe(200);
  await eventually(async () => (await appointmentStatus(id)) === 'booked', 30_000, 'booked');
  return id;
}

const referralClinic = (waitSeconds: number) => makeReferralClinic(engine.db, { waitSeconds });
/** A referral to the clinic's first practitioner's specialty, once its process has offered slots. */
async function offeredReferral(clinic: TestClinic): Promise<string> {
  const patientId = await makePatient(engine.db);
  const created = await call(
    'POST',
    '/referrals',
    await engine.token('doctor', { id: `doctor-${clinic.otherPractitionerId}`, practitionerId: clinic.otherPractitionerId }),
    {
      patientId,
      referringPractitionerId: clinic.otherPractitionerId,
      specialty: clinic.specialty,
      reason: 'chest pain on exertion',
      icd10: 'I20.8',
    },
  );
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await eventually(
    async () => (await engine.db.selectFrom('referrals').select('status').where('id', '=', id).executeTakeFirst())?.status === 'offered',
    30_000,
    'offered',
  );
  return id;
}

describe('a clean engine', () => {
  test('after bookings, a referral and lab orders (one critical, one closed) the checker finds nothing, and counts what it checked', async () => {
    const clinic = await referralClinic(3600);
    const patients = [await makePatient(engine.db), await makePatient(engine.db)];
    const slots = [await makeSlot(engine.db, clinic, 86_400), await makeSlot(engine.db, clinic, 90_000)];
    await bookAndConfirm(clinic, slots[0]!.id, patients[0]!);
    const held = await call('POST', '/appointments', await registrar(clinic.clinicId), { slotId: slots[1]!.id, patientId: patients[1]! });
    expect(held.status).toBe(201);
    const cancelled = await call('POST', `/appointments/${held.body.id}/cancel`, await registrar(clinic.clinicId), {
      reason: 'patient asked',
    });
    expect(cancelled.status).toBe(200);
    await offeredReferral(clinic);

    const lab = await makeLabClinic(engine.db);
    const api = labApi(engine, lab);
    const normal = (
      await api.order(
        await makeLabPatient(engine.db),
        LIPIDS_MMOL.map((r) => r.loinc),
      )
    ).body.id as string;
    await api.collectAndReceive(normal);
    expect((await api.post(normal, LIPIDS_MMOL)).status).toBe(200);
    expect((await api.call('POST', `/lab-orders/${normal}/acknowledge`, await api.doctorToken(), { readBack: [] })).status).toBe(200);
    const critical = (await api.order(await makeLabPatient(engine.db), ['2823-3'], 'stat')).body.id as string;
    await api.collectAndReceive(critical);
    expect((await api.post(critical, [{ loinc: '2823-3', value: 6.8, unit: 'mmol/L' }])).status).toBe(200);
    await eventually(
      async () =>
        (await engine.db.selectFrom('lab_orders').select('status').where('id', '=', normal).executeTakeFirst())?.status === 'closed',
      30_000,
      'closed',
    );

    await reports([clinic.clinicId, lab.clinicId], []);
    const report = await runInvariants(
      { db: engine.db, temporal: engine.client, namespace: engine.config.TEMPORAL_NAMESPACE },
      { settleMs: 0, clinicIds: [clinic.clinicId, lab.clinicId], taskQueue: engine.config.CLINICAL_TASK_QUEUE },
    );
    const checked = Object.fromEntries(report.rules.map((r) => [r.rule, r.checked]));
    expect(checked).toMatchObject({
      'appointment-slot': 2,
      'appointment-process': 2,
      'appointment-audit': 2,
      'booking-open-not-running': 1,
      'referral-audit': 1,
      'referral-open-not-running': 1,
      'lab-order-audit': 2,
      'lab-result-interpretation': 2,
      'lab-result-cds': 2,
      'lab-critical-followup': 1,
    });
  });
  test('every process run to its end (rescheduled, no-show, fulfilled, referral closed, specimen rejected and re-collected) leaves nothing behind', async () => {
    const fast = await makeClinic(engine.db, { policy: { reminderLeadSeconds: 1, noShowGraceSeconds: 2 } });
    const clinic = await makeReferralClinic(engine.db);
    const status = (id: string, want: string) =>
      eventually(async () => (await appointmentStatus(id)) === want, 30_000, `appointment ${want}`);
    const reg = await registrar(clinic.clinicId);

    const moved = await bookAndConfirm(clinic, (await makeSlot(engine.db, clinic, 86_400)).id, await makePatient(engine.db));
    const to = await makeSlot(engine.db, clinic, 90_000);
    expect((await call('POST', `/appointments/${moved}/reschedule`, reg, { slotId: to.id })).status).toBe(200);
    const noShow = await bookAndConfirm(fast, (await makeShortSlot(engine.db, fast, 3, 2)).id, await makePatient(engine.db));
    const otherShort = await engine.db
      .insertInto('slots')
      .values({
        practitioner_id: fast.otherPractitionerId,
        clinic_id: fast.clinicId,
        // Ends 15 s on: booked, confirmed and checked in before its end even on a loaded machine (else a no-show).
        starts_at: new Date(Date.now() + 3000),
        ends_at: new Date(Date.now() + 15_000),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const visit = await bookAndConfirm(fast, otherShort.id, await makePatient(engine.db));
    expect((await call('POST', `/appointments/${visit}/check-in`, await registrar(fast.clinicId))).status).toBe(202);

    const referralId = await offeredReferral(clinic);
    const patientId = (await engine.db.selectFrom('referrals').select('patient_id').where('id', '=', referralId).executeTakeFirstOrThrow())
      .patient_id;
    const booked = await call('POST', `/referrals/${referralId}/book`, reg, { slotId: (await makeSlot(engine.db, clinic, 3600)).id });
    expect(booked.status).toBe(201);
    expect((await call('POST', `/appointments/${booked.body.appointmentId}/check-in`, reg)).status).toBe(202);
    await eventually(
      async () =>
        (await engine.db.selectFrom('referrals').select('status').where('id', '=', referralId).executeTakeFirst())?.status === 'attended',
      30_000,
      'attended',
    );
    const specialist = await engine.token('doctor', { id: `doctor-${clinic.practitionerId}`, practitionerId: clinic.practitionerId });
    expect(
      (
        await call('POST', `/referrals/${referralId}/report`, specialist, {
          patientId,
          conclusion: 'Stable angina.',
          icd10: ['I20.8'],
          recommendations: 'Stress ECG.',
        })
      ).status,
    ).toBe(200);
    const referrer = await engine.token('doctor', {
      id: `doctor-${clinic.otherPractitionerId}`,
      practitionerId: clinic.otherPractitionerId,
    });
    expect((await call('POST', `/referrals/${referralId}/acknowledge`, referrer)).body.status).toBe('closed');

    const lab = await makeLabClinic(engine.db);
    const api = labApi(engine, lab);
    const order = (await api.order(await makeLabPatient(engine.db), ['2823-3'])).body.id as string;
    expect((await api.call('POST', `/lab-orders/${order}/specimen/collect`, await api.labToken(), { barcode: 'TUBE-1' })).status).toBe(200);
    expect(
      (await api.call('POST', `/lab-orders/${order}/specimen/reject`, await api.labToken(), { reason: 'haemolysed' })).body.status,
    ).toBe('ordered');
    await api.collectAndReceive(order, 'TUBE-2');
    expect((await api.post(order, [{ loinc: '2823-3', value: 4.2, unit: 'mmol/L' }])).status).toBe(200);

    await status(noShow, 'noshow');
    await status(visit, 'fulfilled');
    await reports([fast.clinicId, clinic.clinicId, lab.clinicId], []);
  }, 120_000);
});

describe('each rule finds its broken row', () => {
  test('an appointment written past the app has no process, no audit rows and an open row nothing runs; the settle time hides it while it is new', async () => {
    const clinic = await makeClinic(engine.db);
    const slot = await makeSlot(engine.db, clinic, 86_400);
    const patientId = await makePatient(engine.db);
    const id = randomUUID();
    const workflowId = `booking-${id}`;
    await makeBookedRow(engine.db, clinic, slot, patientId, { id, workflow_id: workflowId, booked_by: 'nobody' });
    expect(await check([clinic.clinicId], 60_000)).toEqual([]);
    const found = await reports(
      [clinic.clinicId],
      [
        { rule: 'appointment-process', ids: { appointmentId: id, workflowId } },
        { rule: 'appointment-audit', ids: { appointmentId: id } },
        { rule: 'booking-open-not-running', ids: { appointmentId: id, workflowId } },
      ],
    );
    expect(found.find((v) => v.rule === 'booking-open-not-running')!.message).toBe(
      `booking ${id} is booked in Postgres but its workflow is missing`,
    );
    expect(JSON.stringify(found)).not.toMatch(/Test Patient|1970-05-05/);
  });

  test('a booking process terminated while its row says booked, and one whose row was cancelled behind its back', async () => {
    const clinic = await makeClinic(engine.db);
    const slots = [await makeSlot(engine.db, clinic, 86_400), await makeSlot(engine.db, clinic, 90_000)];
    const terminated = await bookAndConfirm(clinic, slots[0]!.id, await makePatient(engine.db));
    const sneaked = await bookAndConfirm(clinic, slots[1]!.id, await makePatient(engine.db));
    await reports([clinic.clinicId], []);

    await engine.client.workflow.getHandle(`booking-${terminated}`).terminate('invariant test');
    await sql`UPDATE appointments SET status = 'cancelled', updated_at = now() WHERE id = ${sneaked}`.execute(engine.db);
    const found = await reports(
      [clinic.clinicId],
      [
        { rule: 'booking-open-not-running', ids: { appointmentId: terminated, workflowId: `booking-${terminated}` } },
        { rule: 'booking-running-not-open', ids: { appointmentId: sneaked, workflowId: `booking-${sneaked}` } },
        { rule: 'appointment-audit', ids: { appointmentId: sneaked } },
      ],
    );
    expect(found.find((v) => v.rule === 'booking-open-not-running')!.message).toContain('its workflow is terminated');
  });

  test("overlaps: the database refuses a second live appointment of a slot or a patient; one moved onto another slot's time is found", async () => {
    const clinic = await makeClinic(engine.db);
    const [a, b] = [await makeSlot(engine.db, clinic, 86_400), await makeSlot(engine.db, clinic, 90_000)];
    const patientA = await makePatient(engine.db);
    const first = await bookAndConfirm(clinic, a!.id, patientA);
    const second = await bookAndConfirm(clinic, b!.id, await makePatient(engine.db));
    const row = (over: Json) => ({
      id: randomUUID(),
      slot_id: a!.id,
      patient_id: patientA,
      practitioner_id: clinic.practitionerId,
      clinic_id: clinic.clinicId,
      starts_at: a!.startsAt,
      ends_at: a!.endsAt,
      status: 'booked' as const,
      hold_expires_at: null,
      workflow_id: `booking-${randomUUID()}`,
      booked_by: 'nobody',
      cancel_reason: null,
      ...over,
    });
    // The same slot twice, and the same patient twice at once: the constraints stop both, so these rules guard against a lost constraint.
    await expect(
      engine.db
        .insertInto('appointments')
        .values(row({ patient_id: await makePatient(engine.db) }))
        .execute(),
    ).rejects.toMatchObject({ code: '23505' });
    const sameTime = await makeSlot(engine.db, clinic, a!.startsAt, 20, clinic.otherPractitionerId);
    await expect(
      engine.db
        .insertInto('appointments')
        .values(row({ slot_id: sameTime.id, practitioner_id: clinic.otherPractitionerId }))
        .execute(),
    ).rejects.toMatchObject({ code: '23P01' });

    // What gets past them: the second appointment's times moved onto the first's (its slot left as it was).
    await sql`UPDATE appointments SET starts_at = ${a!.startsAt}, ends_at = ${a!.endsAt} WHERE id = ${second}`.execute(engine.db);
    const [lo, hi] = [first, second].sort();
    const slotOf = { [first]: a!.id, [second]: b!.id };
    await reports(
      [clinic.clinicId],
      [
        { rule: 'appointment-slot', ids: { appointmentId: second, slotId: b!.id } },
        {
          rule: 'slot-no-overlap',
          ids: {
            appointmentId: lo!,
            otherAppointmentId: hi!,
            slotId: slotOf[lo!]!,
            otherSlotId: slotOf[hi!]!,
            practitionerId: clinic.practitionerId,
          },
        },
      ],
    );
  });

  test('referrals: past the deadline unflagged, flagged without its event, closed behind a running process', async () => {
    const clinic = await referralClinic(3600);
    const [late, flagged, closed] = [await offeredReferral(clinic), await offeredReferral(clinic), await offeredReferral(clinic)];
    await reports([clinic.clinicId], []);
    await sql`UPDATE referrals SET deadline_at = now() - interval '1 hour' WHERE id = ${late}`.execute(engine.db);
    await sql`UPDATE referrals SET breached = true WHERE id = ${flagged}`.execute(engine.db);
    await sql`UPDATE referrals SET status = 'closed', updated_at = now() WHERE id = ${closed}`.execute(engine.db);
    await reports(
      [clinic.clinicId],
      [
        { rule: 'referral-breach-flagged', ids: { referralId: late, workflowId: `referral-${late}` } },
        { rule: 'referral-audit', ids: { referralId: flagged } },
        { rule: 'referral-audit', ids: { referralId: closed } },
        { rule: 'referral-running-not-open', ids: { referralId: closed, workflowId: `referral-${closed}` } },
      ],
    );
  });

  test('a referral seeded weeks past its deadline is judged only once its process has had the settle time to flag it', async () => {
    const clinic = await referralClinic(3600);
    const day = 86_400_000;
    // As the demo seed writes them: created a month ago, due two days ago, unflagged, the row last changed yesterday.
    const seeded = async () => {
      const id = randomUUID();
      await engine.db
        .insertInto('referrals')
        .values({
          id,
          patient_id: await makePatient(engine.db),
          clinic_id: clinic.clinicId,
          referring_practitioner_id: clinic.otherPractitionerId,
          specialty: clinic.specialty,
          priority: 'routine',
          status: 'created',
          deadline_at: new Date(Date.now() - 2 * day),
          appointment_id: null,
          report_received_at: null,
          workflow_id: referralWorkflowId(id),
          created_by: 'demo-seed',
          created_at: new Date(Date.now() - 30 * day),
          kind: 'specialist',
          urgency: 'routine',
          icd10: 'I10',
          reason: 'seeded',
          target_practitioner_id: null,
          target_test: null,
          valid_until: new Date(Date.now() + 30 * day),
          booked_at: null,
          acknowledged_at: null,
          acknowledged_by: null,
          cancel_reason: null,
          closed_at: null,
        })
        .execute();
      await sql`UPDATE referrals SET updated_at = now() - interval '1 day' WHERE id = ${id}`.execute(engine.db);
      return engine.db.selectFrom('referrals').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    };
    const [starting, orphan] = [await seeded(), await seeded()];
    // Its process has just started (on a queue no worker polls, so it cannot flag the row yet): not judged within the settle time.
    const handle = await engine.client.workflow.start(referralWorkflow, {
      workflowId: starting.workflow_id,
      taskQueue: `no-worker-${randomUUID().slice(0, 8)}`,
      args: [await referralStart(engine.db, starting)],
    });
    try {
      const breach = (await check([clinic.clinicId], 60_000)).filter((v) => v.rule === 'referral-breach-flagged');
      // The orphan has no process: nothing will ever flag it.
      expect(breach.map((v) => v.ids)).toEqual([{ referralId: orphan.id, workflowId: orphan.workflow_id }]);
      // Once the start is older than the settle time, the unflagged row is reported.
      const settled = (await check([clinic.clinicId], 0)).filter((v) => v.rule === 'referral-breach-flagged');
      expect(settled.map((v) => v.ids.referralId).sort()).toEqual([starting.id, orphan.id].sort());
    } finally {
      await handle.terminate('test over');
    }
  });

  test('a final critical lab order written past the app lacks its results, card, follow-up, events and process; a terminated order is found', async () => {
    const lab = await makeLabClinic(engine.db);
    const api = labApi(engine, lab);
    const patientId = await makeLabPatient(engine.db);
    const id = randomUUID();
    const workflowId = `lab-order-${id}`;
    await engine.db
      .insertInto('lab_orders')
      .values({
        id,
        patient_id: patientId,
        clinic_id: lab.clinicId,
        ordering_practitioner_id: lab.doctorId,
        tests: ['2823-3'],
        priority: 'stat',
        status: 'final',
        workflow_id: workflowId,
        clinical_note: null,
        created_by: lab.doctorId,
        round: 1,
        final_at: new Date(Date.now() - 3600_000),
        critical_pending: true,
      })
      .execute();
    const running = (await api.order(await makeLabPatient(engine.db), ['2823-3'])).body.id as string;
    await eventually(
      async () => (await engine.db.selectFrom('lab_orders').select('id').where('id', '=', running).executeTakeFirst()) !== undefined,
      30_000,
      'ordered',
    );
    await engine.client.workflow.getHandle(`lab-order-${running}`).terminate('invariant test');
    await reports(
      [lab.clinicId],
      [
        { rule: 'lab-result-interpretation', ids: { labOrderId: id, loinc: '2823-3' } },
        { rule: 'lab-result-cds', ids: { labOrderId: id, round: '1' } },
        { rule: 'lab-critical-followup', ids: { labOrderId: id, round: '1' } },
        { rule: 'lab-order-audit', ids: { labOrderId: id } },
        { rule: 'lab-order-open-not-running', ids: { labOrderId: id, workflowId } },
        { rule: 'lab-order-open-not-running', ids: { labOrderId: running, workflowId: `lab-order-${running}` } },
      ],
    );
  });

  test('a clinic onboarding without its process', async () => {
    const clinic = await makeClinic(engine.db);
    await sql`UPDATE clinics SET rollout_stage = 'preparation' WHERE id = ${clinic.clinicId}`.execute(engine.db);
    const workflowId = `onboarding-${clinic.clinicId}`;
    await engine.db
      .insertInto('onboarding_events')
      .values({
        clinic_id: clinic.clinicId,
        workflow_id: workflowId,
        kind: 'onboarding-started',
        stage: 'preparation',
        dedupe_key: `${workflowId}:started`,
      })
      .execute();
    await reports([clinic.clinicId], [{ rule: 'onboarding-open-not-running', ids: { clinicId: clinic.clinicId, workflowId } }]);

    // The command ops run checks everything (this run's other rows too): it prints this one by its ids and exits 1.
    const cli = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'workers/check-invariants.ts', '--once', '--settle-ms', '0'],
        { env: { ...process.env, NODE_ENV: 'test', DATA_DIR: process.env.TEST_DATA_DIR, LOG_LEVEL: 'silent' }, timeout: 120_000 },
        (err, stdout) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, out: stdout }),
      );
    });
    expect(cli.code).toBe(1);
    expect(cli.out).toContain(`VIOLATION onboarding-open-not-running clinicId=${clinic.clinicId} workflowId=${workflowId}: `);
    expect(cli.out).toMatch(/^FAIL onboarding-open-not-running +checked \d+, violations \d+$/m);
    expect(cli.out).toMatch(/^ok {3}patient-no-overlap +checked \d+, violations 0$/m);
    expect(cli.out).not.toMatch(/Test Patient|Lab Patient|1970-05-05/);
  }, 150_000);
});
