/**
 * The demo city's part for the lab bench and the doctor's tablet, on a first start: an unmatched lab
 * message (db/seed-lab-desk.ts), and a referral whose visit is today and checked in, with the demo
 * doctor as both the referring doctor and the one who sees the patient, so the report and its
 * acknowledgement can be tried from /doctor/inbox. (The critical value waiting for read-back is
 * workers/lab-order-demo.ts's.) Idempotent: a deterministic referral id, each step only when behind.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Db } from '../db';
import { referralDeadline, referralStart } from '../db/referral';
import { seedDemoUnmatchedMessage } from '../db/seed-lab-desk';
import { nameUuid } from '../domain/ids';
import { defaultReferralPolicy, fhirPriority, referralWorkflowId } from '../domain/referral';
import { bookingWorkflowId, checkInSignal } from '../workflows/booking';
import { bookReferralUpdate, referralStatusQuery, referralWorkflow } from '../workflows/referral';

const demo = (key: string) => nameUuid('demo', key);
const DAY = 86_400_000;

/** The demo doctor's next free slot starting within the check-in window (2 h), or a new one in 30 minutes. */
async function slotSoon(db: Db, practitionerId: string, clinicId: string): Promise<string> {
  const now = Date.now();
  const free = await db
    .selectFrom('slots as s')
    .select('s.id')
    .where('s.practitioner_id', '=', practitionerId)
    .where('s.status', '=', 'free')
    .where('s.starts_at', '>', new Date(now + 5 * 60_000))
    .where('s.starts_at', '<', new Date(now + 110 * 60_000))
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('appointments as a').select('a.id').whereRef('a.slot_id', '=', 's.id'))))
    .orderBy('s.starts_at')
    .executeTakeFirst();
  if (free) return free.id;
  // A new 15-minute slot in the first gap of the doctor's day from 30 minutes on (taken slots may sit
  // anywhere; the exclusion constraint refuses an overlap, which DO NOTHING turns into "try 5 minutes later").
  const first = Math.ceil((now + 30 * 60_000) / 300_000) * 300_000;
  for (let start = first; start < now + 110 * 60_000; start += 300_000) {
    const row = await db
      .insertInto('slots')
      .values({ practitioner_id: practitionerId, clinic_id: clinicId, starts_at: new Date(start), ends_at: new Date(start + 15 * 60_000) })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (row) return row.id;
  }
  throw new Error('the demo doctor has no free 15 minutes in the next two hours for the demo referral visit');
}

export async function seedLabDoctorDemo(opts: {
  client: Client;
  db: Db;
  taskQueue: string;
}): Promise<{ message: boolean; referral: string }> {
  const { client, db, taskQueue } = opts;
  const message = await seedDemoUnmatchedMessage(db);
  const patientId = demo('patient:10');
  if (!(await db.selectFrom('patients').select('id').where('id', '=', patientId).executeTakeFirst()))
    return { message, referral: 'no demo city' };
  const clinicId = demo('clinic:PC-01');
  const doctorId = demo('practitioner:PC-01:0');
  const id = demo('referral:today-report');
  let row = await db.selectFrom('referrals').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) {
    const createdAt = new Date(Date.now() - 2 * DAY);
    const deadline = await referralDeadline(db, clinicId, createdAt, defaultReferralPolicy('specialist', 'routine'));
    const specialty = (await db.selectFrom('practitioners').select('specialty').where('id', '=', doctorId).executeTakeFirstOrThrow())
      .specialty;
    await db
      .insertInto('referrals')
      .values({
        id,
        patient_id: patientId,
        clinic_id: clinicId,
        referring_practitioner_id: doctorId,
        specialty,
        priority: fhirPriority('routine'),
        status: 'created',
        deadline_at: deadline,
        appointment_id: null,
        report_received_at: null,
        workflow_id: referralWorkflowId(id),
        // Not one of the city's seeded history ('demo-seed'): the deadline statistic in docs/referral.md leaves it out.
        created_by: 'demo-seed-today',
        created_at: createdAt,
        kind: 'specialist',
        urgency: 'routine',
        icd10: 'I10',
        reason: 'контроль давления после смены терапии',
        target_practitioner_id: doctorId,
        target_test: null,
        valid_until: new Date(createdAt.getTime() + 60 * DAY),
        breached: false,
        escalation_level: 0,
        booked_at: null,
        acknowledged_at: null,
        acknowledged_by: null,
        cancel_reason: null,
        closed_at: null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    row = await db.selectFrom('referrals').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }
  if (!['created', 'offered'].includes(row.status)) return { message, referral: row.status };
  try {
    await client.workflow.start(referralWorkflow, {
      workflowId: row.workflow_id,
      taskQueue,
      args: [await referralStart(db, row)],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { message, referral: 'ended' };
  }
  const handle = client.workflow.getHandle(row.workflow_id);
  // The process offers slots first: the booking waits for that step.
  for (let i = 0; i < 60 && (await handle.query(referralStatusQuery)).status === 'created'; i++)
    await new Promise((r) => setTimeout(r, 500));
  const booked = await handle.executeUpdate(bookReferralUpdate, {
    args: [{ slotId: await slotSoon(db, doctorId, clinicId), by: 'demo-registrar' }],
    updateId: 'demo-book',
  });
  await client.workflow.getHandle(bookingWorkflowId(booked.appointmentId)).signal(checkInSignal, { by: 'demo-registrar' });
  return { message, referral: 'booked and checked in' };
}
