/**
 * The gauges ops read from Postgres at scrape time (platform/metrics.ts registerDbGauges).
 * Add one entry per process here: referrals past deadline and critical results awaiting
 * acknowledgement belong beside held slots.
 */
import type { DbGauge } from '../platform/metrics';
import type { Db } from './index';

/** Appointments holding a slot and waiting for confirmation. */
export async function countHeldSlots(db: Db): Promise<number> {
  const row = await db.selectFrom('appointments').select((eb) => eb.fn.countAll<string>().as('n')).where('status', '=', 'held').executeTakeFirstOrThrow();
  return Number(row.n);
}

export function dbGauges(db: Db): DbGauge[] {
  return [
    { name: 'clinical_held_slots', help: 'Appointments in status held (a slot held, not yet confirmed)', read: () => countHeldSlots(db) },
  ];
}
