/** Lab order queries shared by activities and the API (the db or a transaction as first argument). */
import { sql, type Kysely } from 'kysely';
import type { CatalogueTest, RangeRow } from '../domain/interpretation';
import { countWorkingDays } from '../domain/calendar';
import {
  DEFAULT_LAB_ORDER_POLICY,
  turnaroundDeadline,
  type LabOrderInput,
  type LabOrderPolicy,
  type LabPriority,
} from '../domain/lab-order';
import type { LabValue } from '../domain/cds/rules';
import { reportCalendarGaps } from '../platform/calendar-watch';
import { clinicCalendar } from './calendar';
import type { Database, LabOrder } from './schema';

type Q = Kysely<Database>;

/**
 * Catalogue rows (unit, convertible units, possible range, reference ranges) of these tests, with
 * the critical limits in force at `at` (lab_critical_ranges, set through the admin API) over those
 * of the reference-range rows. An order carries the rows read when it was placed.
 */
export async function loadCatalogue(db: Q, loincs: readonly string[], at: Date = new Date()): Promise<CatalogueTest[]> {
  if (!loincs.length) return [];
  const [tests, units, ranges, critical] = await Promise.all([
    db
      .selectFrom('lab_tests')
      .selectAll()
      .where('loinc', 'in', [...loincs])
      .execute(),
    db
      .selectFrom('lab_test_units')
      .selectAll()
      .where('loinc', 'in', [...loincs])
      .execute(),
    db
      .selectFrom('lab_reference_ranges')
      .selectAll()
      .where('loinc', 'in', [...loincs])
      .execute(),
    criticalRangesInForce(db, loincs, at),
  ]);
  return tests.map((t) => {
    const rows: RangeRow[] = ranges
      .filter((r) => r.loinc === t.loinc)
      .map((r) => ({
        sex: r.sex,
        ageMinYears: r.age_min_years,
        ageMaxYears: r.age_max_years,
        refLow: r.ref_low,
        refHigh: r.ref_high,
        criticalLow: r.critical_low,
        criticalHigh: r.critical_high,
      }));
    const limits = critical.get(t.loinc);
    return {
      loinc: t.loinc,
      name: t.name,
      unit: t.unit,
      physioLow: t.physio_low,
      physioHigh: t.physio_high,
      altUnits: units.filter((u) => u.loinc === t.loinc).map((u) => ({ unit: u.unit, factor: u.factor })),
      ranges: limits ? withCriticalLimits(rows, limits) : rows,
    };
  });
}

/** The critical limits in force at `at` per test that has a lab_critical_ranges version by then. */
export interface CriticalLimits {
  criticalLow: number | null;
  criticalHigh: number | null;
}

export async function criticalRangesInForce(db: Q, loincs: readonly string[], at: Date): Promise<Map<string, CriticalLimits>> {
  const rows = await db
    .selectFrom('lab_critical_ranges')
    .select(['loinc', 'critical_low', 'critical_high'])
    .distinctOn('loinc')
    .where('loinc', 'in', [...loincs])
    .where('effective_from', '<=', at)
    .orderBy('loinc')
    .orderBy('effective_from', 'desc')
    .execute();
  return new Map(rows.map((r) => [r.loinc, { criticalLow: r.critical_low, criticalHigh: r.critical_high }]));
}

/** Every band of the test takes the version's critical limits; a test without bands gets one that holds only them. */
function withCriticalLimits(rows: RangeRow[], limits: CriticalLimits): RangeRow[] {
  if (!rows.length) return [{ sex: null, ageMinYears: null, ageMaxYears: null, refLow: null, refHigh: null, ...limits }];
  return rows.map((r) => ({ ...r, ...limits }));
}

/** Test and panel codes → the LOINC codes of the tests, in order, without repeats; unknown codes apart. */
export async function expandTests(db: Q, codes: readonly string[]): Promise<{ loincs: string[]; unknown: string[] }> {
  const [tests, panels] = await Promise.all([
    db
      .selectFrom('lab_tests')
      .select('loinc')
      .where('loinc', 'in', [...codes])
      .execute(),
    db
      .selectFrom('lab_panel_tests')
      .select(['panel_code', 'loinc'])
      .where('panel_code', 'in', [...codes])
      .orderBy('panel_code')
      .orderBy('loinc')
      .execute(),
  ]);
  const loincs: string[] = [];
  const unknown: string[] = [];
  for (const code of codes) {
    const members = panels.filter((p) => p.panel_code === code).map((p) => p.loinc);
    if (members.length) loincs.push(...members);
    else if (tests.some((t) => t.loinc === code)) loincs.push(code);
    else unknown.push(code);
  }
  return { loincs: [...new Set(loincs)], unknown };
}

export function labOrderRow(db: Q, id: string): Promise<LabOrder | undefined> {
  return db.selectFrom('lab_orders').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The latest version of each result on these orders. */
export function currentResults(db: Q, orderIds: readonly string[]) {
  if (!orderIds.length) return Promise.resolve([]);
  return db
    .selectFrom('lab_result_versions as v')
    .innerJoin('lab_tests as t', 't.loinc', 'v.loinc')
    .select([
      'v.lab_order_id',
      'v.loinc',
      't.name',
      'v.version',
      'v.value',
      'v.unit',
      'v.reported_value',
      'v.reported_unit',
      'v.interpretation',
      'v.ref_low',
      'v.ref_high',
      'v.status',
      'v.resulted_at',
    ])
    .where('v.lab_order_id', 'in', [...orderIds])
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('lab_result_versions as w')
            .select('w.id')
            .whereRef('w.lab_order_id', '=', 'v.lab_order_id')
            .whereRef('w.loinc', '=', 'v.loinc')
            .whereRef('w.version', '>', 'v.version'),
        ),
      ),
    )
    .orderBy('v.lab_order_id')
    .orderBy('v.loinc')
    .execute();
}

/**
 * What the CDS model needs about a patient: sex, birth date, the latest vitals and every final
 * result (latest version per order and test) with its date and catalogue unit.
 */
export async function patientCdsInputs(db: Q, patientId: string): Promise<{ sex: string; birthDate: string; labs: LabValue[] }> {
  const patient = await db.selectFrom('patients').select(['sex', 'birth_date']).where('id', '=', patientId).executeTakeFirstOrThrow();
  const vitals = await db
    .selectFrom('patient_vitals')
    .select(['loinc', 'value', 'unit', 'effective_at'])
    .where('patient_id', '=', patientId)
    .orderBy('effective_at', 'desc')
    .limit(200)
    .execute();
  const orders = await db
    .selectFrom('lab_orders')
    .select('id')
    .where('patient_id', '=', patientId)
    .where('final_at', 'is not', null)
    .execute();
  const results = (
    await currentResults(
      db,
      orders.map((o) => o.id),
    )
  ).filter((r) => r.status !== 'preliminary');
  return {
    sex: patient.sex,
    birthDate: patient.birth_date,
    labs: [
      ...vitals.map((v) => ({ loinc: v.loinc, value: v.value, unit: v.unit, effective: v.effective_at.toISOString() })),
      ...results.map((r) => ({ loinc: r.loinc, value: r.value, unit: r.unit, effective: r.resulted_at.toISOString() })),
    ],
  };
}

/** The lab's worklist: its clinic's open orders before results are final, stat first, then oldest. */
export function labWorklist(db: Q, clinicId: string, limit = 500) {
  return db
    .selectFrom('lab_orders')
    .select([
      'id',
      'patient_id',
      'priority',
      'status',
      'tests',
      'created_at',
      'deadline_at',
      'overdue',
      'barcode',
      'rejection_count',
      'clinic_id',
      'ordering_practitioner_id',
    ])
    .where('clinic_id', '=', clinicId)
    .where('status', 'in', ['ordered', 'collected', 'received', 'resulted'])
    .orderBy(sql`CASE priority WHEN 'stat' THEN 0 WHEN 'asap' THEN 1 WHEN 'urgent' THEN 2 ELSE 3 END`)
    .orderBy('created_at')
    .limit(limit)
    .execute();
}

/** A doctor's inbox: final results awaiting their acknowledgement (as ordering or covering doctor), critical first. */
export function doctorInbox(db: Q, practitionerId: string, limit = 500) {
  return db
    .selectFrom('lab_orders as o')
    .leftJoin('lab_escalation_contacts as e', 'e.clinic_id', 'o.clinic_id')
    .select([
      'o.id',
      'o.patient_id',
      'o.priority',
      'o.tests',
      'o.final_at',
      'o.critical_pending',
      'o.round',
      'o.ordering_practitioner_id',
      'o.clinic_id',
    ])
    .where('o.status', '=', 'final')
    .where((eb) => eb.or([eb('o.ordering_practitioner_id', '=', practitionerId), eb('e.covering_practitioner_id', '=', practitionerId)]))
    .orderBy('o.critical_pending', 'desc')
    .orderBy('o.final_at')
    .limit(limit)
    .execute();
}

/** Unacknowledged critical results, with the escalation steps taken so far. */
export async function criticalUnacknowledged(db: Q, opts: { clinicIds?: string[]; limit?: number } = {}) {
  const orders = await db
    .selectFrom('lab_orders')
    .select(['id', 'clinic_id', 'patient_id', 'ordering_practitioner_id', 'final_at', 'round', 'workflow_id', 'tests', 'priority'])
    .where('critical_pending', '=', true)
    .where('status', '=', 'final')
    .$if(opts.clinicIds !== undefined, (q) =>
      q.where('clinic_id', 'in', opts.clinicIds!.length ? opts.clinicIds! : ['00000000-0000-0000-0000-000000000000']),
    )
    .orderBy('final_at')
    .orderBy('id')
    .limit(opts.limit ?? 500)
    .execute();
  const steps = orders.length
    ? await db
        .selectFrom('lab_critical_notifications')
        .selectAll()
        .where(
          'lab_order_id',
          'in',
          orders.map((o) => o.id),
        )
        .orderBy('notified_at')
        .execute()
    : [];
  return orders.map((o) => ({ ...o, steps: steps.filter((s) => s.lab_order_id === o.id && s.round === o.round) }));
}

/** Median and p90 turnaround (order → final, and each step) per test and clinic for orders finalised in [from, to). */
export function turnaround(db: Q, from: Date, to: Date) {
  const pct = (p: number, a: string, b: string) =>
    sql<number | null>`percentile_cont(${p}) WITHIN GROUP (ORDER BY extract(epoch FROM ${sql.ref(b)} - ${sql.ref(a)}))`;
  return db
    .selectFrom(
      sql<{
        id: string;
        clinic_id: string;
        loinc: string;
        created_at: Date;
        collected_at: Date;
        received_at: Date;
        resulted_at: Date;
        final_at: Date;
        acknowledged_at: Date | null;
      }>`(
      SELECT o.id, o.clinic_id, unnest(o.tests) AS loinc, o.created_at, o.collected_at, o.received_at, o.resulted_at, o.final_at, o.acknowledged_at
      FROM lab_orders o WHERE o.final_at >= ${from} AND o.final_at < ${to})`.as('x'),
    )
    .select((eb) => [
      'x.loinc',
      'x.clinic_id',
      eb.fn.countAll<string>().as('orders'),
      pct(0.5, 'x.created_at', 'x.final_at').as('median_seconds'),
      pct(0.9, 'x.created_at', 'x.final_at').as('p90_seconds'),
      pct(0.5, 'x.created_at', 'x.collected_at').as('median_to_collected'),
      pct(0.5, 'x.collected_at', 'x.received_at').as('median_collected_to_received'),
      pct(0.5, 'x.received_at', 'x.resulted_at').as('median_received_to_resulted'),
      pct(0.5, 'x.final_at', 'x.acknowledged_at').as('median_final_to_acknowledged'),
    ])
    .groupBy(['x.loinc', 'x.clinic_id'])
    .orderBy('x.clinic_id')
    .orderBy('x.loinc')
    .execute();
}

/**
 * The clinic's lab order policy at `at` (default now), most specific last: the production defaults,
 * the city-wide escalation version in force, the clinic's own lab_order_policies row, the clinic's
 * escalation version in force (lab_escalation_policies, set through the admin API).
 */
export async function labOrderPolicy(db: Q, clinicId: string, at: Date = new Date()): Promise<LabOrderPolicy> {
  const [row, escalations] = await Promise.all([
    db.selectFrom('lab_order_policies').select('policy').where('clinic_id', '=', clinicId).executeTakeFirst(),
    db
      .selectFrom('lab_escalation_policies')
      .select(['clinic_id', 'escalate_covering_seconds', 'escalate_head_seconds'])
      .where((eb) => eb.or([eb('clinic_id', '=', clinicId), eb('clinic_id', 'is', null)]))
      .where('effective_from', '<=', at)
      .orderBy('effective_from', 'desc')
      .execute(),
  ]);
  const own = (row?.policy ?? {}) as Partial<LabOrderPolicy>;
  const known = Object.fromEntries(
    Object.entries(own).filter(([k, v]) => k in DEFAULT_LAB_ORDER_POLICY && typeof v === 'number' && v >= 0),
  );
  const steps = (e: (typeof escalations)[number] | undefined) =>
    e ? { escalateCoveringSeconds: e.escalate_covering_seconds, escalateHeadSeconds: e.escalate_head_seconds } : {};
  const cityWide = escalations.find((e) => e.clinic_id === null);
  const clinics = escalations.find((e) => e.clinic_id === clinicId);
  return { ...DEFAULT_LAB_ORDER_POLICY, ...steps(cityWide), ...known, ...steps(clinics) };
}

/**
 * Everything a lab order's process starts with, read once: the ordering doctor's clinic, the
 * patient's sex and birth date, the tests (panels expanded) with their catalogue rows, the clinic's
 * policy and its covering doctor and head of department. A refusal says which record is missing.
 */
export async function buildLabOrderInput(
  db: Q,
  req: {
    orderId: string;
    practitionerId: string;
    patientId: string;
    tests: string[];
    priority: LabPriority;
    note: string | null;
    orderedAt: string;
  },
): Promise<{ ok: true; input: LabOrderInput } | { ok: false; missing: 'practitioner' | 'patient' | 'tests'; unknown?: string[] }> {
  const practitioner = await db
    .selectFrom('practitioners')
    .select(['id', 'clinic_id'])
    .where('id', '=', req.practitionerId)
    .executeTakeFirst();
  if (!practitioner) return { ok: false, missing: 'practitioner' };
  const patient = await db.selectFrom('patients').select(['id', 'sex', 'birth_date']).where('id', '=', req.patientId).executeTakeFirst();
  if (!patient) return { ok: false, missing: 'patient' };
  const { loincs, unknown } = await expandTests(db, req.tests);
  // The policy, critical limits and calendar in force when the order was placed go into its process.
  const orderedAt = new Date(req.orderedAt);
  if (unknown.length || !loincs.length) return { ok: false, missing: 'tests', unknown };
  const [catalogue, policy, contacts] = await Promise.all([
    loadCatalogue(db, loincs, orderedAt),
    labOrderPolicy(db, practitioner.clinic_id, orderedAt),
    db.selectFrom('lab_escalation_contacts').selectAll().where('clinic_id', '=', practitioner.clinic_id).executeTakeFirst(),
  ]);
  // Routine turnaround is the legal waiting time for diagnostics, in the clinic's working days.
  let deadlineAt = turnaroundDeadline(req.priority, req.orderedAt, policy);
  if (req.priority === 'routine') {
    const counted = countWorkingDays(orderedAt, policy.routineDays, await clinicCalendar(db, practitioner.clinic_id, orderedAt));
    reportCalendarGaps('lab-order', counted.yearsWithoutDecree);
    deadlineAt = counted.deadline.toISOString();
  }
  return {
    ok: true,
    input: {
      deadlineAt,
      orderId: req.orderId,
      patientId: patient.id,
      clinicId: practitioner.clinic_id,
      orderingPractitionerId: practitioner.id,
      coveringPractitionerId: contacts?.covering_practitioner_id ?? null,
      headPractitionerId: contacts?.head_practitioner_id ?? null,
      priority: req.priority,
      note: req.note,
      tests: loincs,
      orderedAt: req.orderedAt,
      catalogue,
      patientSex: patient.sex === 'female' || patient.sex === 'male' ? patient.sex : null,
      patientBirthDate: patient.birth_date,
      policy,
    },
  };
}
