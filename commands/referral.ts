/** The referral's first rows (the referral and its `created` event), written by the API before its process starts. */
import type { Insertable } from 'kysely';
import type { Db } from '../db';
import type { ReferralEventsTable, ReferralsTable } from '../db/schema';
import { commandTransaction } from './tx';

/** Writes the referral and its created event once; true when this call wrote them (a retry finds them written). */
export async function createReferral(
  db: Db,
  referral: Insertable<ReferralsTable>,
  created: Insertable<ReferralEventsTable>,
): Promise<boolean> {
  return commandTransaction(db, async (tx) => {
    const inserted = await tx
      .insertInto('referrals')
      .values(referral)
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted)
      await tx
        .insertInto('referral_events')
        .values(created)
        .onConflict((oc) => oc.column('dedupe_key').doNothing())
        .execute();
    return inserted !== undefined;
  });
}
