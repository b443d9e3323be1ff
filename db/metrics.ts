/**
 * The gauges ops read from Postgres at scrape time (platform/metrics.ts registerDbGauges).
 * One entry per process: held slots, referrals past their deadline, critical results awaiting
 * acknowledgement.
 */
import type { DbGauge } from '../platform/metrics';
import { weeklyHitsByClinic, weeklyLowConfidence } from './diagnosis';
import type { Db } from './index';

/** Appointments holding a slot and waiting for confirmation. */
export async function countHeldSlots(db: Db): Promise<number> {
  const row = await db
    .selectFrom('appointments')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status', '=', 'held')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Bookings answered whose process has not been seen started yet (the API's start queue, city-wide; a partial index). */
export async function countProcessesNotStarted(db: Db): Promise<number> {
  const row = await db
    .selectFrom('appointments')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('process_started_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Open referrals (not closed, cancelled or expired) whose booking deadline has passed unbooked, or flagged breached. */
export async function countReferralsPastDeadline(db: Db): Promise<number> {
  const row = await db
    .selectFrom('referrals')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status', 'not in', ['closed', 'cancelled', 'expired'])
    .where((eb) => eb.or([eb('breached', '=', true), eb.and([eb('booked_at', 'is', null), eb('deadline_at', '<', new Date())])]))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Lab orders with a critical result nobody has acknowledged yet. */
export async function countCriticalUnacknowledged(db: Db): Promise<number> {
  const row = await db
    .selectFrom('lab_orders')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('critical_pending', '=', true)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function dbGauges(db: Db): DbGauge[] {
  return [
    { name: 'clinical_held_slots', help: 'Appointments in status held (a slot held, not yet confirmed)', read: () => countHeldSlots(db) },
    {
      name: 'clinical_booking_processes_not_started',
      help: 'Bookings answered whose process has not been seen started (climbs when Temporal falls behind or refuses starts)',
      read: () => countProcessesNotStarted(db),
    },
    {
      name: 'clinical_referrals_past_deadline',
      help: 'Open referrals not booked by their legal deadline',
      read: () => countReferralsPastDeadline(db),
    },
    {
      name: 'clinical_critical_results_unacknowledged',
      help: "Lab orders with a critical result awaiting the doctor's acknowledgement",
      read: () => countCriticalUnacknowledged(db),
    },
    {
      name: 'clinical_diagnosis_suggestion_hit3_ratio',
      labelNames: ['clinic'],
      help: 'Last 7 days, per clinic: share of visits completed with a code whose latest diagnosis suggestion had its category among three',
      read: async () => (await weeklyHitsByClinic(db)).map((h) => ({ labels: { clinic: h.clinicCode }, value: h.hit3Rate })),
    },
    {
      name: 'clinical_diagnosis_suggestion_low_confidence_ratio',
      help: 'Last 7 days: share of diagnosis suggestions answered as low-confidence (drift: climbs when texts move away from the training data)',
      read: async () => (await weeklyLowConfidence(db)).lowConfidenceShare,
    },
  ];
}
