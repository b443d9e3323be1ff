/**
 * What the registrar's desk does with referrals, shared by the JSON routes (api/referral.ts) and the pages (web/):
 * read one with the caller's access checked, the clinic's work queue (escalated first, then nearest deadline) with
 * names and bookable offers, and booking a slot for one (an Update to its process).
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { Context } from 'hono';
import type { Db } from '../db';
import { registrarQueue } from '../db/referral';
import { currentOffersOf } from '../db/referral-offers';
import type { Referral } from '../db/schema';
import { LIVE_STATUSES } from '../domain/booking';
import { AWAITING_BOOKING } from '../domain/referral';
import { bookReferralUpdate } from '../workflows/referral';
import type { Caller } from './auth';
import { canActOnReferral, clinicFilterFor } from './access';
import { ApiError, sendToProcess } from './errors';
import { awaitProcessStart } from './process-start';
import { presentReferrals } from './referral-names';
import type { ApiDeps, AppEnv } from './router';

/** A list's rows with names beside ids and the offers still bookable now. */
export async function presentWithOffers(db: Db, caller: Caller, rows: Referral[], recordRead = false) {
  const [named, offers] = await Promise.all([presentReferrals(db, caller, rows, recordRead), currentOffersOf(db, rows)]);
  return named.map((r, i) => ({ ...r, offeredSlots: offers[i]! }));
}

export function referralDesk(deps: Pick<ApiDeps, 'db' | 'temporal'>) {
  const { db, temporal } = deps;

  /** The referral's row, checked against the caller. */
  async function ownReferral(c: Context<AppEnv>, id: string, action: 'read' | 'write' = 'write'): Promise<Referral> {
    const row = await db.selectFrom('referrals').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new ApiError(404, 'referral_not_found', `Referral ${id} does not exist.`);
    await canActOnReferral(c, db, row, action);
    return row;
  }

  /**
   * A referral answered before its process started: the clinical worker's outbox relay starts it
   * (normally within milliseconds of the commit), so an Update waits for its start, a while.
   */
  async function ensureProcess(row: Referral): Promise<void> {
    if (row.status !== 'created') return; // the process has offered slots: it runs
    await awaitProcessStart(db, row.workflow_id, "The referral's process");
  }

  /** Sends an Update to the referral's process; an ended process means the referral can no longer change. */
  const update = async <T>(row: Referral, send: (h: WorkflowHandle) => Promise<T>): Promise<T> => {
    await ensureProcess(row);
    return sendToProcess(temporal, row, 'referral', send);
  };

  /** The clinic's referrals awaiting booking: escalated first, then nearest deadline (a registrar's own clinic by default). */
  async function queue(c: Context<AppEnv>, q: { clinicId?: string; limit: number; offset: number }) {
    const caller = c.get('caller');
    const clinicId = clinicFilterFor(caller, q.clinicId);
    if (!clinicId) throw new ApiError(400, 'validation_failed', 'Name the clinic whose queue to read (clinicId).');
    const rows = await registrarQueue(db, clinicId, q.limit + 1, q.offset);
    const more = rows.length > q.limit;
    return { referrals: await presentWithOffers(db, caller, rows.slice(0, q.limit)), nextOffset: more ? q.offset + q.limit : null, more };
  }

  /**
   * The referral's booking in `slotId`, when it is booked there already: a booking repeated (a retry after a lost
   * answer, a form sent twice) is answered with the booking it made, not refused as a referral no longer bookable.
   */
  async function alreadyBookedIn(row: Referral, slotId: string) {
    if (AWAITING_BOOKING.includes(row.status) || !row.appointment_id) return undefined;
    const a = await db.selectFrom('appointments').selectAll().where('id', '=', row.appointment_id).executeTakeFirst();
    if (!a || a.slot_id !== slotId || !(LIVE_STATUSES as readonly string[]).includes(a.status)) return undefined;
    return {
      appointmentId: a.id,
      status: a.status,
      slotId: a.slot_id,
      practitionerId: a.practitioner_id,
      clinicId: a.clinic_id,
      startsAt: a.starts_at.toISOString(),
    };
  }

  /** Books a slot for the referral, held and confirmed at once, by its process. */
  async function book(c: Context<AppEnv>, referralId: string, slotId: string) {
    const row = await ownReferral(c, referralId);
    const repeated = await alreadyBookedIn(row, slotId);
    if (repeated) return repeated;
    const v = await update(row, (h) => h.executeUpdate(bookReferralUpdate, { args: [{ slotId, by: c.get('caller').id }] }));
    return {
      appointmentId: v.appointmentId,
      status: v.status,
      slotId: v.slotId,
      practitionerId: v.practitionerId,
      clinicId: v.clinicId,
      startsAt: v.startsAt,
    };
  }

  return { ownReferral, update, queue, book };
}

export type ReferralDesk = ReturnType<typeof referralDesk>;
