/** What the registrar's desk and the ops board read beside the existing lists: a clinic's day, breached referrals, clinics' names. */
import { sql } from 'kysely';
import { LIVE_STATUSES } from '../domain/booking';
import type { Db } from './index';

/** A clinic's appointments on one of its local dates (live ones and no-shows), in time order. */
export async function clinicDay(db: Db, clinicId: string, date: string) {
  return db
    .selectFrom('appointments as a')
    .innerJoin('clinics as c', 'c.id', 'a.clinic_id')
    .selectAll('a')
    .where('a.clinic_id', '=', clinicId)
    .where(sql<boolean>`a.starts_at >= (${date}::date)::timestamp AT TIME ZONE c.time_zone`)
    .where(sql<boolean>`a.starts_at < (${date}::date + 1)::timestamp AT TIME ZONE c.time_zone`)
    .where('a.status', 'in', [...LIVE_STATUSES, 'noshow'])
    .orderBy('a.starts_at')
    .orderBy('a.id')
    .limit(500)
    .execute();
}

/** Open referrals past their deadline unbooked, or flagged breached: nearest (most overdue) deadline first. */
export async function breachedReferrals(db: Db, limit: number, now = new Date()) {
  return db
    .selectFrom('referrals')
    .select([
      'id',
      'workflow_id',
      'clinic_id',
      'specialty',
      'urgency',
      'status',
      'deadline_at',
      'breached',
      'escalation_level',
      'appointment_id',
      'created_at',
    ])
    .where('status', 'not in', ['closed', 'cancelled', 'expired'])
    .where((eb) => eb.or([eb('breached', '=', true), eb.and([eb('status', 'in', ['created', 'offered']), eb('deadline_at', '<', now)])]))
    .orderBy('deadline_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** The clinic's practitioners, by name (the desk's day lists and leave form). */
export async function clinicPractitioners(db: Db, clinicId: string) {
  return db
    .selectFrom('practitioners')
    .select(['id', 'full_name', 'specialty'])
    .where('clinic_id', '=', clinicId)
    .orderBy('full_name')
    .execute();
}

/** Every clinic with its code, name, zone and rollout stage (the ops board). */
export async function clinicsOverview(db: Db) {
  return db.selectFrom('clinics').select(['id', 'code', 'name', 'time_zone', 'is_pilot', 'rollout_stage']).orderBy('code').execute();
}

/** Per clinic, for the rollout board: its open tasks (overdue ones counted), its open blockers, and its last go / no-go. */
export async function rolloutBoardRows(db: Db, clinicIds: string[]) {
  if (clinicIds.length === 0) return { tasks: [], blockers: [], decisions: [] };
  const [tasks, blockers, decisions] = await Promise.all([
    db
      .selectFrom('onboarding_tasks')
      .select(['clinic_id', 'stage', 'title', 'task', 'escalations', 'deadline_at'])
      .where('clinic_id', 'in', clinicIds)
      .where('status', 'in', ['requested', 'in-progress'])
      .orderBy('clinic_id')
      .orderBy('created_at')
      .execute(),
    db
      .selectFrom('onboarding_blockers')
      .select(['clinic_id', 'id', 'description', 'reported_at'])
      .where('clinic_id', 'in', clinicIds)
      .where('resolved_at', 'is', null)
      .orderBy('reported_at')
      .execute(),
    db
      .selectFrom('onboarding_events')
      .select(['clinic_id', 'kind', 'at'])
      .where('clinic_id', 'in', clinicIds)
      .where('kind', 'in', ['decision-go', 'decision-no-go'])
      .orderBy('at', 'desc')
      .execute(),
  ]);
  return { tasks, blockers, decisions };
}
