/**
 * GET /ops/summary: the counts come from rows this test makes, in a database of its own (the run's
 * shared database changes under other test files), and the route is for ops and admins only.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createApp } from '../api/app';
import { createDb, migrateToLatest, type Db } from '../db';
import { opsSummary } from '../db/ops';
import { createLogger } from '../platform/logger';
import { makeBookedRow, makeClinic, makePatient, makeSlot, type TestClinic } from './fixtures';
import { startTestEngine, type TestEngine } from './helpers';

let engine: TestEngine;
let db: Db;
const dbName = `ops_summary_${randomUUID().slice(0, 8)}`;
beforeAll(async () => {
  engine = await startTestEngine({ clinicalWorker: false });
  await sql.raw(`CREATE DATABASE ${dbName}`).execute(engine.db);
  const url = new URL(engine.config.DATABASE_URL!);
  url.pathname = `/${dbName}`;
  db = createDb(url.toString(), 2);
  await migrateToLatest(db);
}, 120_000);
afterAll(async () => {
  await db?.destroy();
  await sql
    .raw(`DROP DATABASE IF EXISTS ${dbName}`)
    .execute(engine.db)
    .catch(() => undefined);
  await engine.stop();
});

const HOUR = 3600_000;
const at = (ms: number) => new Date(Date.now() + ms);

/** Each appointment's slot an hour after the last (random starts could overlap one practitioner's slots). */
let slotsMade = 0;
async function appointment(clinic: TestClinic, patientId: string, status: string, holdExpiresAt: Date | null = null) {
  const slot = await makeSlot(db, clinic, 24 * 3600 + 3600 * slotsMade++);
  await makeBookedRow(db, clinic, slot, patientId, {
    status: status as never,
    hold_expires_at: holdExpiresAt,
    workflow_id: `booking-${randomUUID()}`,
  });
}

async function referral(clinic: TestClinic, patientId: string, status: string, deadlineAt: Date, breached = false) {
  const id = randomUUID();
  await db
    .insertInto('referrals')
    .values({
      id,
      patient_id: patientId,
      clinic_id: clinic.clinicId,
      referring_practitioner_id: clinic.otherPractitionerId,
      specialty: clinic.specialty,
      priority: 'routine',
      status: status as never,
      deadline_at: deadlineAt,
      appointment_id: null,
      report_received_at: null,
      workflow_id: `referral-${id}`,
      created_by: 'test',
      icd10: 'I10',
      reason: 'test',
      target_practitioner_id: null,
      target_test: null,
      valid_until: at(30 * 24 * HOUR),
      breached,
      booked_at: null,
      acknowledged_at: null,
      acknowledged_by: null,
      cancel_reason: null,
      closed_at: null,
    })
    .execute();
}

async function labOrder(
  clinic: TestClinic,
  patientId: string,
  status: string,
  extra: { deadlineAt?: Date; overdue?: boolean; critical?: boolean; acknowledged?: boolean } = {},
) {
  const id = randomUUID();
  await db
    .insertInto('lab_orders')
    .values({
      id,
      patient_id: patientId,
      clinic_id: clinic.clinicId,
      ordering_practitioner_id: clinic.practitionerId,
      tests: ['2345-7'],
      priority: 'routine',
      status: status as never,
      workflow_id: `lab-order-${id}`,
      clinical_note: null,
      created_by: 'test',
      deadline_at: extra.deadlineAt ?? null,
      overdue: extra.overdue ?? false,
      barcode: null,
      collected_by: null,
      collected_at: null,
      received_at: null,
      resulted_at: null,
      final_at: null,
      acknowledged_at: extra.acknowledged ? new Date() : null,
      acknowledged_by: extra.acknowledged ? 'dr' : null,
      ack_seconds: null,
      cancelled_at: null,
      cancel_reason: null,
      critical_pending: extra.critical ?? false,
    })
    .execute();
}

test('GET /ops/summary counts every process by state and what needs attention, for ops and admins only', async () => {
  const clinic = await makeClinic(db);
  await db.updateTable('clinics').set({ rollout_stage: 'pilot' }).where('id', '=', clinic.clinicId).execute();
  const other = await makeClinic(db);
  const patientId = await makePatient(db);

  await appointment(clinic, patientId, 'held', at(HOUR)); // held, live
  await appointment(clinic, patientId, 'held', at(-HOUR)); // hold lapsed: not counted as held
  await appointment(clinic, patientId, 'offered', at(HOUR)); // offered from the waitlist: held
  await appointment(clinic, patientId, 'booked');
  await appointment(clinic, patientId, 'booked');
  await appointment(clinic, patientId, 'cancelled');

  await referral(clinic, patientId, 'created', at(-HOUR)); // past deadline, not booked: overdue
  await referral(clinic, patientId, 'offered', at(HOUR)); // in time
  await referral(clinic, patientId, 'booked', at(-HOUR), true); // booked too late: breached
  await referral(clinic, patientId, 'booked', at(-HOUR)); // booked in time, visit later: fine
  await referral(clinic, patientId, 'cancelled', at(-HOUR)); // closed: never overdue

  await labOrder(clinic, patientId, 'ordered', { deadlineAt: at(-HOUR) }); // past turnaround
  await labOrder(clinic, patientId, 'received', { deadlineAt: at(HOUR) }); // in time
  await labOrder(clinic, patientId, 'final', { overdue: true, critical: true }); // flagged late, critical unacknowledged
  await labOrder(clinic, patientId, 'acknowledged', { critical: false, acknowledged: true, deadlineAt: at(-HOUR) });
  await labOrder(clinic, patientId, 'cancelled', { deadlineAt: at(-HOUR) });

  const expected = {
    at: expect.any(String),
    appointments: { held: 2, offered: 1, booked: 2, cancelled: 1 },
    referrals: { created: 1, offered: 1, booked: 2, cancelled: 1 },
    labOrders: { ordered: 1, received: 1, final: 1, acknowledged: 1, cancelled: 1 },
    onboarding: { pilot: 1, live: 1 },
    attention: { overdueReferrals: 2, unacknowledgedCriticalResults: 1, labOrdersPastTurnaround: 2, heldSlots: 2 },
    diagnosisSuggestions: { windowDays: 7, answered: 0, lowConfidenceShare: 0, byClinic: [] },
  };
  expect(other.clinicId).toBeDefined();
  expect(await opsSummary(db)).toEqual(expected);

  // Through the API, on an app reading this database.
  const app = createApp({ config: engine.config, db, temporal: engine.client, logger: createLogger('test', 'silent') });
  const get = async (token?: string) => app.request('/ops/summary', { headers: token ? { authorization: `Bearer ${token}` } : {} });
  for (const role of ['ops', 'admin'] as const) {
    const res = await get(await engine.token(role));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(expected);
  }
  for (const role of ['patient', 'registrar', 'doctor', 'lab'] as const) expect((await get(await engine.token(role))).status).toBe(403);
  expect((await get()).status).toBe(401);
});
