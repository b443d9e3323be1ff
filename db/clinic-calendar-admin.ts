/**
 * A clinic's calendar as the admin API sets it: country/region versions (each in force from its
 * effective_from) and closures (closed local dates with a reason, added and removed). Every change
 * writes its audit row in the same transaction; the audit rows are the closures' history.
 */
import { versionInForce } from '../domain/admin-policy';
import { insertPolicyAudit, policyChanges, type PolicyChangeActor } from './audit';
import { DEFAULT_COUNTRY } from './calendar';
import type { Db } from './index';
import { inTransaction } from './tx';

const LIMITS = { statementMs: 5000, lockMs: 2000 };

export async function clinicZone(db: Db, clinicId: string): Promise<string | undefined> {
  return (await db.selectFrom('clinics').select('time_zone').where('id', '=', clinicId).executeTakeFirst())?.time_zone;
}

/** The clinic's calendar at `at`, every version (newest first), its closures and the history of changes. */
export async function clinicCalendarView(db: Db, clinicId: string, at: Date) {
  const [clinic, base, versions, closures, changes] = await Promise.all([
    db.selectFrom('clinics').select(['id', 'time_zone']).where('id', '=', clinicId).executeTakeFirstOrThrow(),
    db.selectFrom('clinic_calendars').select(['country', 'region']).where('clinic_id', '=', clinicId).executeTakeFirst(),
    db.selectFrom('clinic_calendar_versions').selectAll().where('clinic_id', '=', clinicId).orderBy('effective_from', 'desc').execute(),
    db.selectFrom('clinic_closures').select(['closed_on', 'reason']).where('clinic_id', '=', clinicId).orderBy('closed_on').execute(),
    policyChanges(db, ['clinic-calendar', 'clinic-closure'], clinicId),
  ]);
  const current = versionInForce(
    versions.map((v) => ({ ...v, effectiveFrom: v.effective_from })),
    at,
  );
  const inForce = current
    ? { country: current.country, region: current.region, source: 'version' as const, effectiveFrom: current.effective_from.toISOString() }
    : {
        country: base?.country ?? DEFAULT_COUNTRY,
        region: base?.region ?? null,
        source: base ? ('clinic' as const) : ('default' as const),
        effectiveFrom: null,
      };
  return {
    clinicId,
    timeZone: clinic.time_zone,
    at: at.toISOString(),
    inForce,
    versions: versions.map((v) => ({
      id: v.id,
      country: v.country,
      region: v.region,
      effectiveFrom: v.effective_from.toISOString(),
      createdBy: v.created_by,
      createdAt: v.created_at.toISOString(),
      inForce: v.id === current?.id,
    })),
    closures: closures.map((c) => ({ date: c.closed_on, reason: c.reason })),
    changes: changes.map((r) => ({ at: r.at.toISOString(), actor: r.actor, entity: r.entity, details: r.details })),
  };
}

/** Adds a country/region version of the clinic's calendar from `effectiveFrom`. */
export interface NewClinicCalendar {
  clinicId: string;
  country: string;
  region: string | null;
  effectiveFrom: Date;
}

export async function addClinicCalendarVersion(db: Db, v: NewClinicCalendar, who: PolicyChangeActor) {
  await inTransaction(db, LIMITS, async (tx) => {
    const before = (await clinicCalendarView(tx, v.clinicId, v.effectiveFrom)).inForce;
    await tx
      .insertInto('clinic_calendar_versions')
      .values({
        clinic_id: v.clinicId,
        country: v.country,
        region: v.region,
        effective_from: v.effectiveFrom,
        created_by: who.actor,
      })
      .execute();
    await insertPolicyAudit(tx, who, {
      entity: 'clinic-calendar',
      entityId: v.clinicId,
      change: 'country-region',
      before: { country: before.country, region: before.region },
      after: { country: v.country, region: v.region },
      effectiveFrom: v.effectiveFrom.toISOString(),
    });
  });
}

/** Closes the clinic on a local date; false when it is closed that day already (nothing written). */
export async function addClosure(db: Db, v: { clinicId: string; date: string; reason: string }, who: PolicyChangeActor): Promise<boolean> {
  return inTransaction(db, LIMITS, async (tx) => {
    const added = await tx
      .insertInto('clinic_closures')
      .values({ clinic_id: v.clinicId, closed_on: v.date, reason: v.reason })
      .onConflict((oc) => oc.columns(['clinic_id', 'closed_on']).doNothing())
      .returning('closed_on')
      .executeTakeFirst();
    if (!added) return false;
    await insertPolicyAudit(tx, who, {
      entity: 'clinic-closure',
      entityId: v.clinicId,
      change: 'closure-added',
      before: null,
      after: { date: v.date, reason: v.reason },
      effectiveFrom: null,
    });
    return true;
  });
}

/** Reopens a closed local date; false when it was not closed (nothing written). */
export async function removeClosure(db: Db, v: { clinicId: string; date: string }, who: PolicyChangeActor): Promise<boolean> {
  return inTransaction(db, LIMITS, async (tx) => {
    const removed = await tx
      .deleteFrom('clinic_closures')
      .where('clinic_id', '=', v.clinicId)
      .where('closed_on', '=', v.date)
      .returning(['closed_on', 'reason'])
      .executeTakeFirst();
    if (!removed) return false;
    await insertPolicyAudit(tx, who, {
      entity: 'clinic-closure',
      entityId: v.clinicId,
      change: 'closure-removed',
      before: { date: removed.closed_on, reason: removed.reason },
      after: null,
      effectiveFrom: null,
    });
    return true;
  });
}
