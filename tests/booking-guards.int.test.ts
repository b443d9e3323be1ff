/**
 * Booking's guards against what a review found: a cancel that waited on the waitlist offer, holds
 * written after their process gave up, practitioners double-booked by overlapping schedules, and
 * an audit trail that named the wrong people and could be rewritten.
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { sql } from 'kysely';
import pg from 'pg';
import { createSelfTestActivities } from '../activities/self-test';
import { generateSlots } from '../db/booking';
import { inTransaction, TransactionAbandoned } from '../db/tx';
import { DEFAULT_BOOKING_POLICY, type BookingPolicy } from '../domain/booking';
import { bookingStatusQuery, bookingWorkflow, bookingWorkflowId, holdSlotUpdate } from '../workflows/booking';
import { clinicIdKey, patientIdKey, processStatusKey } from '../workflows/search-attributes';
import { daysFromNow, makeClinic, makePatient, makeSlot } from './fixtures';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

type Json = Record<string, any>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A registrar of the clinic (registrars act only for the clinic(s) on their token). */
const registrar = (clinicId: string, id = 'test-registrar') => engine.token('registrar', { id, clinicId });
/** The slot's clinic; a slot that does not exist is refused (404) before any clinic is looked at. */
const slotClinic = async (slotId: string) =>
  (/^[0-9a-f-]{36}$/i.test(slotId)
    ? await engine.db.selectFrom('slots').select('clinic_id').where('id', '=', slotId).executeTakeFirst()
    : undefined
  )?.clinic_id ?? '00000000-0000-4000-8000-000000000000';

async function call(
  method: string,
  path: string,
  token: string,
  body?: unknown,
  idempotencyKey?: string,
): Promise<{ status: number; body: Json }> {
  const init = jsonRequest(method, token, body);
  if (idempotencyKey) (init.headers as Record<string, string>)['idempotency-key'] = idempotencyKey;
  const res = await engine.app.request(path, init);
  return { status: res.status, body: (await res.json()) as Json };
}
const book = async (slotId: string, patientId: string) =>
  call('POST', '/appointments', await registrar(await slotClinic(slotId)), { slotId, patientId }, `key-${randomUUID()}`);
const statusBecomes = (id: string, status: string, timeoutMs = 30_000) =>
  eventually(
    async () =>
      (await engine.db.selectFrom('appointments').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status === status,
    timeoutMs,
    `appointment ${status}`,
  );

/**
 * Another connection's uncommitted live appointment: whoever writes a conflicting one (the same
 * slot, or the same patient at that time) waits for it, as behind a slow or stuck transaction.
 */
async function openBlocker(a: {
  slotId: string;
  patientId: string;
  practitionerId: string;
  clinicId: string;
  startsAt: Date;
  endsAt: Date;
}) {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  await client.query('BEGIN');
  await client.query(
    `INSERT INTO appointments (id, slot_id, patient_id, practitioner_id, clinic_id, starts_at, ends_at, status, workflow_id, booked_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'held', $8, 'test')`,
    [randomUUID(), a.slotId, a.patientId, a.practitionerId, a.clinicId, a.startsAt, a.endsAt, `blocker-${randomUUID()}`],
  );
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  let open = true;
  return {
    /** Sessions waiting on the blocker (asked on another connection: inside it pg_stat_activity is a snapshot). */
    async waiters(): Promise<number> {
      const r = await sql<{ n: string }>`SELECT count(*) AS n FROM pg_stat_activity WHERE ${pid}::int = ANY(pg_blocking_pids(pid))`.execute(
        engine.db,
      );
      return Number(r.rows[0]!.n);
    },
    async release() {
      if (!open) return;
      open = false;
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

describe('cancel and the waitlist offer', () => {
  test('a cancel is answered once it commits, while the offer of its slot is still stuck, and the offer follows', async () => {
    const clinic = await makeClinic(engine.db, { policy: { offerHoldSeconds: 120 } });
    const [alice, walter] = [await makePatient(engine.db), await makePatient(engine.db)];
    const slot = await makeSlot(engine.db, clinic, daysFromNow(6));
    expect(
      (
        await call(
          'POST',
          '/waitlist',
          await registrar(clinic.clinicId),
          {
            patientId: walter,
            specialty: clinic.specialty,
            practitionerId: clinic.practitionerId,
            wantedBefore: daysFromNow(20).toISOString(),
          },
          `wait-${randomUUID()}`,
        )
      ).status,
    ).toBe(201);
    const { body: a } = await book(slot.id, alice);
    expect((await call('POST', `/appointments/${a.id}/confirm`, await registrar(clinic.clinicId))).status).toBe(200);

    // Walter is being booked elsewhere at that very time, in a transaction that has not finished:
    // the offer to him waits on the patient-overlap constraint until it does.
    const elsewhere = await makeSlot(engine.db, clinic, slot.startsAt, 20, clinic.otherPractitionerId);
    const blocker = await openBlocker({
      slotId: elsewhere.id,
      patientId: walter,
      practitionerId: clinic.otherPractitionerId,
      clinicId: clinic.clinicId,
      startsAt: elsewhere.startsAt,
      endsAt: elsewhere.endsAt,
    });
    try {
      const cancelling = call('POST', `/appointments/${a.id}/cancel`, await registrar(clinic.clinicId), { reason: 'feeling better' });
      const answered = await Promise.race([cancelling, sleep(45_000).then(() => 'no answer while the offer was stuck')]);
      expect(answered).toMatchObject({ status: 200, body: { id: a.id, status: 'cancelled' } });
      // Answered before the offer finished: no activity of the process (the offer is its only one yet) has closed.
      const events = (await engine.client.workflow.getHandle(`booking-${a.id}`).fetchHistory()).events ?? [];
      expect(
        events.filter(
          (e) => e.activityTaskCompletedEventAttributes || e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes,
        ),
      ).toEqual([]);
      // The offer runs after the answer, and is still waiting on the other transaction.
      await eventually(async () => (await blocker.waiters()) > 0, 30_000, 'the offer waiting on the blocker');
      expect(
        await engine.db.selectFrom('appointments').select('id').where('slot_id', '=', slot.id).where('status', '=', 'offered').execute(),
      ).toEqual([]);
    } finally {
      await blocker.release();
    }
    const offer = await eventually(
      () =>
        engine.db.selectFrom('appointments').selectAll().where('slot_id', '=', slot.id).where('status', '=', 'offered').executeTakeFirst(),
      60_000,
      'the offer',
    );
    expect(offer).toMatchObject({ patient_id: walter, booked_by: 'waitlist' });
    // The offer's own process starts just after its row commits.
    const process = await eventually(
      () =>
        engine.client.workflow
          .getHandle(offer.workflow_id)
          .query(bookingStatusQuery)
          .catch(() => undefined),
      30_000,
      "the offer's process",
    );
    expect(process).toMatchObject({ status: 'offered', appointment: { patientId: walter } });
  }, 150_000);
});

describe('holds and their deadline', () => {
  test('a hold blocked past its deadline is never written later: no orphan held row once the blocker rolls back', async () => {
    const clinic = await makeClinic(engine.db);
    const [patientId, other] = [await makePatient(engine.db), await makePatient(engine.db)];
    const slot = await makeSlot(engine.db, clinic, daysFromNow(3));
    // Short step timeouts (each attempt, and in all) so the test need not wait the production 10 s / 30 s.
    const policy = { ...DEFAULT_BOOKING_POLICY, stepTimeouts: { attemptSeconds: 2, deadlineSeconds: 6 } } as BookingPolicy;
    const blocker = await openBlocker({
      slotId: slot.id,
      patientId: other,
      practitionerId: clinic.practitionerId,
      clinicId: clinic.clinicId,
      startsAt: slot.startsAt,
      endsAt: slot.endsAt,
    });
    const appointmentId = randomUUID();
    try {
      const hold = engine.client.workflow.executeUpdateWithStart(holdSlotUpdate, {
        args: [{ slotId: slot.id, bookedBy: 'test-registrar' }],
        updateId: 'hold',
        startWorkflowOperation: new WithStartWorkflowOperation(bookingWorkflow, {
          workflowId: bookingWorkflowId(appointmentId),
          taskQueue: engine.config.CLINICAL_TASK_QUEUE,
          args: [{ appointmentId, patientId, clinicId: clinic.clinicId, policy }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          typedSearchAttributes: [
            { key: clinicIdKey, value: clinic.clinicId },
            { key: patientIdKey, value: patientId },
            { key: processStatusKey, value: 'new' },
          ],
        }),
      });
      const settled = hold.then(
        () => 'held',
        (err: { cause?: { type?: string } }) => `refused: ${err.cause?.type}`,
      );
      await eventually(async () => (await blocker.waiters()) > 0, 30_000, 'the hold waiting on the slot');
      // The process gives up at its deadline and says so to the caller.
      expect(await settled).toBe('refused: Busy');
    } finally {
      await blocker.release();
    }
    // Whatever was still waiting on the blocker has had its chance to commit by now.
    await sleep(3000);
    expect(await engine.db.selectFrom('appointments').select('id').where('id', '=', appointmentId).execute()).toEqual([]);
    expect(await engine.db.selectFrom('appointments').select('id').where('slot_id', '=', slot.id).execute()).toEqual([]);
    expect(await engine.db.selectFrom('audit_log').select('id').where('entity_id', '=', appointmentId).execute()).toEqual([]);
    expect(await engine.client.workflow.getHandle(bookingWorkflowId(appointmentId)).query(bookingStatusQuery)).toMatchObject({
      status: 'rejected',
      appointment: null,
    });
    // The slot is free for the next patient.
    expect((await book(slot.id, patientId)).status).toBe(201);
  }, 120_000);
});

describe('transactions with limits (db/tx.ts, for every activity)', () => {
  test('a lock wait ends at lockMs, and work whose caller gave up is rolled back, not committed', async () => {
    const clinic = await makeClinic(engine.db);
    const [patientId, other] = [await makePatient(engine.db), await makePatient(engine.db)];
    const slot = await makeSlot(engine.db, clinic, daysFromNow(4));
    const blocker = await openBlocker({
      slotId: slot.id,
      patientId: other,
      practitionerId: clinic.practitionerId,
      clinicId: clinic.clinicId,
      startsAt: slot.startsAt,
      endsAt: slot.endsAt,
    });
    const appointment = {
      id: randomUUID(),
      slot_id: slot.id,
      patient_id: patientId,
      practitioner_id: clinic.practitionerId,
      clinic_id: clinic.clinicId,
      starts_at: slot.startsAt,
      ends_at: slot.endsAt,
      status: 'held' as const,
      hold_expires_at: null,
      workflow_id: `tx-${randomUUID()}`,
      booked_by: 'test',
      cancel_reason: null,
    };
    try {
      await expect(
        inTransaction(engine.db, { statementMs: 5000, lockMs: 300 }, (tx) => tx.insertInto('appointments').values(appointment).execute()),
      ).rejects.toMatchObject({ code: '55P03' });
    } finally {
      await blocker.release();
    }
    const caller = new AbortController();
    await expect(
      inTransaction(engine.db, { statementMs: 5000, lockMs: 1000, signal: caller.signal }, async (tx) => {
        await tx.insertInto('appointments').values(appointment).execute();
        caller.abort();
      }),
    ).rejects.toBeInstanceOf(TransactionAbandoned);
    await expect(
      inTransaction(engine.db, { statementMs: 5000, lockMs: 1000, deadlineAt: Date.now() + 50 }, async (tx) => {
        await tx.insertInto('appointments').values(appointment).execute();
        await sleep(100);
      }),
    ).rejects.toBeInstanceOf(TransactionAbandoned);
    // A statement error swallowed inside leaves the transaction aborted: its COMMIT rolls back, and says so.
    await expect(
      inTransaction(engine.db, { statementMs: 5000, lockMs: 1000 }, async (tx) => {
        await tx.insertInto('appointments').values(appointment).execute();
        await sql`SELECT 1 / 0`.execute(tx).catch(() => undefined);
      }),
    ).rejects.toThrow(/rolled back/);
    expect(await engine.db.selectFrom('appointments').select('id').where('slot_id', '=', slot.id).execute()).toEqual([]);
  });
});

describe('a practitioner is never in two places', () => {
  test('overlapping schedules of one practitioner: generation reports the overlap and makes no overlapping slots; a direct overlapping insert fails', async () => {
    const clinic = await makeClinic(engine.db);
    // Beyond the daily job's 60-day horizon, so the slot-horizon test running beside this one never meets this clash.
    const day = daysFromNow(75).toISOString().slice(0, 10);
    const weekday = ((new Date(`${day}T12:00:00Z`).getUTCDay() + 6) % 7) + 1;
    // Two shifts entered for the same doctor that overlap from 09:30 to 10:00.
    const schedules = await engine.db
      .insertInto('schedules')
      .values([
        {
          practitioner_id: clinic.practitionerId,
          clinic_id: clinic.clinicId,
          weekday,
          start_time: '09:00',
          end_time: '10:00',
          slot_minutes: 20,
          break_start: null,
          break_end: null,
          valid_from: day,
          valid_to: day,
        },
        {
          practitioner_id: clinic.practitionerId,
          clinic_id: clinic.clinicId,
          weekday,
          start_time: '09:30',
          end_time: '10:30',
          slot_minutes: 30,
          break_start: null,
          break_end: null,
          valid_from: day,
          valid_to: day,
        },
      ])
      .returning('id')
      .execute();
    const ours = () => engine.db.selectFrom('slots').select('id').where('practitioner_id', '=', clinic.practitionerId).execute();
    try {
      // Generation covers every schedule (other test files' too), so the counts are at least ours.
      const report = await generateSlots(engine.db, day, day);
      // 09:00, 09:20, 09:40 and 09:30, 10:00 were asked for; 09:30 overlaps 09:20 and 09:40 and is skipped.
      expect(report.overlapsSkipped).toBeGreaterThanOrEqual(1);
      expect(await ours()).toHaveLength(4);
      const overlapping = await sql<{ n: string }>`
        SELECT count(*) AS n FROM slots a JOIN slots b ON a.practitioner_id = b.practitioner_id AND a.id < b.id
          AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
        WHERE a.practitioner_id = ${clinic.practitionerId}`.execute(engine.db);
      expect(Number(overlapping.rows[0]!.n)).toBe(0);
      // A second run adds none of ours and reports the overlap again (the schedules still clash).
      expect((await generateSlots(engine.db, day, day)).overlapsSkipped).toBeGreaterThanOrEqual(1);
      expect(await ours()).toHaveLength(4);
    } finally {
      // Other files' slot jobs must not meet this clash.
      await engine.db
        .deleteFrom('schedules')
        .where(
          'id',
          'in',
          schedules.map((r) => r.id),
        )
        .execute();
    }

    // The database itself refuses an overlapping slot, whoever writes it; a back-to-back one is fine.
    const start = daysFromNow(15, 6);
    await makeSlot(engine.db, clinic, start, 20);
    await expect(makeSlot(engine.db, clinic, new Date(start.getTime() + 10 * 60_000), 20)).rejects.toMatchObject({
      code: '23P01',
      constraint: 'slots_practitioner_no_overlap',
    });
    await expect(makeSlot(engine.db, clinic, new Date(start.getTime() + 20 * 60_000), 20)).resolves.toBeDefined();
    // Another practitioner at the same time is another person.
    await expect(makeSlot(engine.db, clinic, start, 20, clinic.otherPractitionerId)).resolves.toBeDefined();
  });
});

describe('the audit trail', () => {
  test('the audit rows of a check-in and of an early completion name the registrar and the doctor who did them', async () => {
    const clinic = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    // Starts in 10 s and lasts 30 minutes: only the doctor can close it within the test.
    const slot = await makeSlot(engine.db, clinic, 10, 30);
    const { body } = await book(slot.id, patientId);
    expect((await call('POST', `/appointments/${body.id}/confirm`, await registrar(clinic.clinicId))).status).toBe(200);
    const desk = await registrar(clinic.clinicId, 'registrar-desk-7');
    expect(await call('POST', `/appointments/${body.id}/check-in`, desk)).toMatchObject({ status: 202 });
    await statusBecomes(body.id, 'arrived');

    const path = `/appointments/${body.id}/complete`;
    const otherDoctor = await engine.token('doctor', { id: 'doctor-other-3', practitionerId: clinic.otherPractitionerId });
    expect(await call('POST', path, otherDoctor)).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(await call('POST', path, await engine.token('patient', { id: `patient-${patientId}`, patientId }))).toMatchObject({
      status: 403,
    });
    const doctor = await engine.token('doctor', { id: 'doctor-own-1', practitionerId: clinic.practitionerId });
    expect(await call('POST', path, doctor)).toMatchObject({ status: 202, body: { id: body.id, accepted: true } });
    await statusBecomes(body.id, 'fulfilled');
    expect(Date.now()).toBeLessThan(slot.endsAt.getTime());
    // A closed visit cannot be completed again.
    expect(await call('POST', path, doctor)).toMatchObject({ status: 409, body: { error: { code: 'invalid_state' } } });

    const rows = await engine.db
      .selectFrom('audit_log')
      .select(['action', 'actor'])
      .where('workflow_id', '=', `booking-${body.id}`)
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      { action: 'held', actor: 'test-registrar' },
      { action: 'booked', actor: 'test-registrar' },
      { action: 'arrived', actor: 'registrar-desk-7' },
      { action: 'fulfilled', actor: 'doctor-own-1' },
    ]);
  });

  test('the audit log is append-only: an UPDATE and a DELETE fail, and a repeated self-test only reads its row back', async () => {
    const selfTest = createSelfTestActivities({ db: engine.db });
    const input = { workflowId: `self-test-${randomUUID()}`, requestedBy: 'test-ops', modelIds: ['m'] };
    const first = await selfTest.recordSelfTest(input);
    expect(await selfTest.recordSelfTest(input)).toEqual(first);
    await expect(sql`UPDATE audit_log SET actor = 'someone-else' WHERE id = ${first.auditId}`.execute(engine.db)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`DELETE FROM audit_log WHERE id = ${first.auditId}`.execute(engine.db)).rejects.toThrow(/append-only/);
    expect(
      await engine.db.selectFrom('audit_log').select(['actor', 'action']).where('workflow_id', '=', input.workflowId).execute(),
    ).toEqual([{ actor: 'test-ops', action: 'self-test' }]);
  });

  test('the lapsed-holds sweep finds its own audit rows by index, not by scanning the table', async () => {
    const plan = await engine.db.transaction().execute(async (tx) => {
      // Told not to scan, the planner still scans when no index fits: what it picks shows whether one does.
      await sql`SET LOCAL enable_seqscan = off`.execute(tx);
      const sweepId = sql.lit(randomUUID());
      return (
        await sql`EXPLAIN (FORMAT JSON) SELECT details FROM audit_log WHERE action = 'expired-by-sweep' AND details->>'sweepId' = ${sweepId}`.execute(
          tx,
        )
      ).rows;
    });
    const text = JSON.stringify(plan);
    expect(text).toContain('audit_log_sweep_idx');
    expect(text).not.toContain('Seq Scan');
  });
});
