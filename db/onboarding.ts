/** Onboarding and rollout queries shared by the onboarding activities, the API and the seed. */
import { sql, type Transaction } from 'kysely';
import type { OnboardingStage, PilotMetrics } from '../domain/onboarding';
import type { Db } from './index';
import type { Database } from './schema';

type Q = Db | Transaction<Database>;

/** Appends one entry to the clinic's onboarding timeline, once per dedupe key. */
export async function recordOnboardingEvent(
  db: Q,
  e: { clinicId: string; workflowId: string; kind: string; stage: OnboardingStage; dedupeKey: string; details?: object },
) {
  await db
    .insertInto('onboarding_events')
    .values({
      clinic_id: e.clinicId,
      workflow_id: e.workflowId,
      kind: e.kind,
      stage: e.stage,
      dedupe_key: e.dedupeKey,
      details: JSON.stringify(e.details ?? {}),
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .execute();
}

export async function onboardingTimeline(db: Q, clinicId: string, limit = 200) {
  const rows = await db
    .selectFrom('onboarding_events')
    .select(['kind', 'stage', 'details', 'at'])
    .where('clinic_id', '=', clinicId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ kind: r.kind, stage: r.stage, details: r.details, at: r.at.toISOString() }));
}

export async function equipmentCounts(db: Q, clinicId: string) {
  const r = await db
    .selectFrom('equipment_items')
    .select((eb) => [eb.fn.countAll<string>().as('total'), sql<string>`count(installed_at)`.as('installed')])
    .where('clinic_id', '=', clinicId)
    .executeTakeFirstOrThrow();
  return { total: Number(r.total), installed: Number(r.installed) };
}

export async function staffCounts(db: Q, clinicId: string) {
  const r = await db
    .selectFrom('clinic_staff')
    .select((eb) => [eb.fn.countAll<string>().as('total'), sql<string>`count(certified_at)`.as('certified')])
    .where('clinic_id', '=', clinicId)
    .executeTakeFirstOrThrow();
  return { total: Number(r.total), certified: Number(r.certified) };
}

/** What the pilot did through the system since `since`: bookings, final results, incidents still open. */
export async function pilotMetrics(db: Q, clinicId: string, since: Date, round: number): Promise<PilotMetrics> {
  const booked = await db
    .selectFrom('appointments')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('clinic_id', '=', clinicId)
    .where('created_at', '>=', since)
    .where('status', 'in', ['booked', 'arrived', 'fulfilled', 'noshow'])
    .executeTakeFirstOrThrow();
  const results = await db
    .selectFrom('lab_results as r')
    .innerJoin('lab_orders as o', 'o.id', 'r.lab_order_id')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('o.clinic_id', '=', clinicId)
    .where('r.status', '=', 'final')
    .where('r.resulted_at', '>=', since)
    .executeTakeFirstOrThrow();
  const incidents = await db
    .selectFrom('pilot_incidents')
    .select((eb) => [eb.fn.countAll<string>().as('open'), sql<string>`count(*) FILTER (WHERE blocking)`.as('blocking')])
    .where('clinic_id', '=', clinicId)
    .where('status', '=', 'open')
    .executeTakeFirstOrThrow();
  return {
    round,
    appointmentsBooked: Number(booked.n),
    resultsDeliveredOnline: Number(results.n),
    openIncidents: Number(incidents.open),
    openBlockingIncidents: Number(incidents.blocking),
  };
}

/** Clinics with their rollout stage, optionally of one stage. */
export async function clinicsByStage(db: Q, stage?: OnboardingStage) {
  return db
    .selectFrom('clinics')
    .select(['id', 'code', 'name', 'is_pilot', 'rollout_stage'])
    .$if(stage !== undefined, (q) => q.where('rollout_stage', '=', stage!))
    .orderBy('code')
    .execute();
}

/** The clinic's onboarding task rows, in template order of creation. */
export async function onboardingTaskRows(db: Q, clinicId: string) {
  return db.selectFrom('onboarding_tasks').selectAll().where('clinic_id', '=', clinicId).orderBy('created_at').orderBy('task').execute();
}

/** The clinic's equipment items and staff, with how far each has come (ids for the equipment and training routes). */
export async function clinicInventory(db: Q, clinicId: string) {
  const items = await db
    .selectFrom('equipment_items')
    .select(['id', 'item_code', 'kind', 'ordered_at', 'delivered_at', 'installed_at'])
    .where('clinic_id', '=', clinicId)
    .orderBy('item_code')
    .execute();
  const staff = await db
    .selectFrom('clinic_staff')
    .select(['id', 'staff_code', 'role', 'trained_at', 'certified_at'])
    .where('clinic_id', '=', clinicId)
    .orderBy('staff_code')
    .execute();
  return {
    equipmentItems: items.map((i) => ({
      id: i.id,
      itemCode: i.item_code,
      kind: i.kind,
      step: i.installed_at ? 'installed' : i.delivered_at ? 'delivered' : i.ordered_at ? 'ordered' : 'none',
    })),
    staffMembers: staff.map((s) => ({
      id: s.id,
      staffCode: s.staff_code,
      role: s.role,
      trained: s.trained_at !== null,
      certified: s.certified_at !== null,
    })),
  };
}
