/**
 * The demo city's arrivals today, for the registrar's desk (PC-01, the demo registrar's clinic): a few patients
 * attached to PC-01 booked on today's free times from now on, each with its booking process, so check-in works on
 * the real path. Started with the clinical worker on the embedded demo start (DEMO_LAB_ORDERS=on), once a day:
 * deterministic appointment ids per local date, a booking the same day again finds its row and leaves it.
 * After the day's last shift (or at a weekend) the demo adds evening times for the clinic's first doctor.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { sql } from 'kysely';
import { createBookingActivities } from '../activities/booking';
import type { Db } from '../db';
import { bookingPolicy, markProcessesStarted } from '../db/booking';
import { demoId } from '../db/seed';
import { localToday } from '../domain/time';
import { bookingWorkflow, bookingWorkflowId } from '../workflows/booking';
import { clinicIdKey, patientIdKey, processStatusKey } from '../workflows/search-attributes';

export const DEMO_ARRIVALS = 5;
/** Demo patients whose home clinic is PC-01 (db/seed.ts: patient n belongs to clinic n mod 8); patient 0 is the demo patient. */
const ARRIVING_PATIENTS = [8, 16, 24, 40, 48];

/** Books today's arrivals unless they are booked; returns how many it booked now. */
export async function seedDeskArrivals(opts: { client: Client; db: Db; taskQueue: string; now?: Date }): Promise<number> {
  const { client, db, taskQueue } = opts;
  const clinicId = demoId('clinic:PC-01');
  const clinic = await db.selectFrom('clinics').select(['id', 'time_zone']).where('id', '=', clinicId).executeTakeFirst();
  if (!clinic || !(await db.selectFrom('patients').select('id').where('id', '=', demoId('patient:8')).executeTakeFirst())) return 0;
  const today = localToday(clinic.time_zone, opts.now);
  const ids = ARRIVING_PATIENTS.map((n, k) => ({ patientId: demoId(`patient:${n}`), appointmentId: demoId(`arrival:${today}:${k}`) }));
  const existing = new Set(
    (
      await db
        .selectFrom('appointments')
        .select('id')
        .where(
          'id',
          'in',
          ids.map((x) => x.appointmentId),
        )
        .execute()
    ).map((r) => r.id),
  );
  const wanted = ids.filter((x) => !existing.has(x.appointmentId));
  if (wanted.length === 0) return 0;
  const slots = await freeTimesToday(db, clinicId, clinic.time_zone, today, wanted.length);
  const policy = await bookingPolicy(db, clinicId);
  const booking = createBookingActivities({ db });
  let booked = 0;
  for (const [i, w] of wanted.entries()) {
    const slotId = slots[i];
    if (!slotId) break;
    const workflowId = bookingWorkflowId(w.appointmentId);
    const held = await booking
      .holdSlotRow({
        appointmentId: w.appointmentId,
        workflowId,
        patientId: w.patientId,
        slotId,
        bookedBy: 'demo-seed',
        policy,
        confirm: true,
        processPending: true,
      })
      .catch(() => undefined); // a patient busy then, or a slot taken meanwhile: one arrival fewer
    if (!held) continue;
    try {
      await client.workflow.start(bookingWorkflow, {
        workflowId,
        taskQueue,
        args: [{ appointmentId: w.appointmentId, patientId: w.patientId, clinicId, policy, held: held.view }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: clinicIdKey, value: clinicId },
          { key: patientIdKey, value: w.patientId },
          { key: processStatusKey, value: held.view.status },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    await markProcessesStarted(db, [w.appointmentId]);
    booked++;
  }
  return booked;
}

/** Free times at the clinic from 10 minutes on, to the end of its local day, spread across its doctors; evening times when there are too few. */
async function freeTimesToday(db: Db, clinicId: string, zone: string, today: string, count: number): Promise<string[]> {
  const free = () =>
    sql<{ id: string }>`
    SELECT DISTINCT ON (s.practitioner_id) s.id FROM slots s
    WHERE s.clinic_id = ${clinicId} AND s.status = 'free' AND s.starts_at > now() + interval '10 minutes'
      AND s.starts_at < ((${today}::date + 1)::timestamp AT TIME ZONE ${zone})
      AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = s.id AND a.status IN ('held', 'offered', 'booked', 'arrived', 'fulfilled'))
    ORDER BY s.practitioner_id, s.starts_at LIMIT ${count}`
      .execute(db)
      .then((r) => r.rows.map((x) => x.id));
  const found = await free();
  if (found.length >= count) return found.slice(0, count);
  // Past the day's shifts: quarter-hour times for the clinic's general practitioner until the local day ends (an overlap is skipped).
  await sql`
    INSERT INTO slots (practitioner_id, clinic_id, starts_at, ends_at)
    SELECT ${demoId('practitioner:PC-01:0')}, ${clinicId}, t, t + interval '15 minutes'
    FROM generate_series(date_trunc('hour', now()) + interval '30 minutes', date_trunc('hour', now()) + interval '30 minutes' + interval '15 minutes' * ${count - 1}, interval '15 minutes') AS t
    WHERE t + interval '15 minutes' <= ((${today}::date + 1)::timestamp AT TIME ZONE ${zone})
    ON CONFLICT DO NOTHING`.execute(db);
  const more = await sql<{ id: string }>`
    SELECT s.id FROM slots s WHERE s.practitioner_id = ${demoId('practitioner:PC-01:0')} AND s.status = 'free' AND s.starts_at > now() + interval '10 minutes'
      AND s.starts_at < ((${today}::date + 1)::timestamp AT TIME ZONE ${zone}) AND NOT (s.id = ANY(${found}::uuid[]))
      AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = s.id AND a.status IN ('held', 'offered', 'booked', 'arrived', 'fulfilled'))
    ORDER BY s.starts_at LIMIT ${count - found.length}`.execute(db);
  return [...found, ...more.rows.map((x) => x.id)];
}
