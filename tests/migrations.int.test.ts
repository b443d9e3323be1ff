import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { sql, type Selectable } from 'kysely';
import pg from 'pg';
import { createDb, migrateToLatest, type Db } from '../db';
import { migrations } from '../db/migrations';
import type { Database } from '../db/schema';

/**
 * The Postgres type a TypeScript column type may have: a column declared `number` in the
 * Database interface must be int2/numeric/float8 in the database, and so on.
 */
type Udt<X> =
  NonNullable<X> extends Date
    ? 'timestamptz'
    : NonNullable<X> extends Buffer
      ? 'bytea'
      : NonNullable<X> extends boolean
        ? 'bool'
        : NonNullable<X> extends number
          ? 'int2' | 'int4' | 'numeric' | 'float8'
          : NonNullable<X> extends string[]
            ? '_text'
            : NonNullable<X> extends number[]
              ? '_float8'
              : NonNullable<X> extends string
                ? 'uuid' | 'text' | 'date' | 'time' | 'int8'
                : 'jsonb';
type ColumnSpec<T, C extends keyof Selectable<T>> = [
  udt: Udt<Selectable<T>[C]>,
  nullable: unknown extends Selectable<T>[C] ? false : null extends Selectable<T>[C] ? true : false,
];
/** Every table and column of the Database interface, no more: the compiler enforces both. */
type SchemaSpec = { [T in keyof Database]: { [C in keyof Selectable<Database[T]>]: ColumnSpec<Database[T], C> } };

const expected: SchemaSpec = {
  clinics: {
    id: ['uuid', false],
    code: ['text', false],
    name: ['text', false],
    address: ['text', false],
    time_zone: ['text', false],
    is_pilot: ['bool', false],
    rollout_stage: ['text', false],
    created_at: ['timestamptz', false],
  },
  patient_attachments: {
    id: ['uuid', false],
    patient_id: ['uuid', false],
    clinic_id: ['uuid', false],
    attached_from: ['timestamptz', false],
    attached_until: ['timestamptz', true],
    created_at: ['timestamptz', false],
  },
  practitioners: {
    id: ['uuid', false],
    clinic_id: ['uuid', false],
    full_name: ['text', false],
    specialty: ['text', false],
    created_at: ['timestamptz', false],
  },
  patients: {
    id: ['uuid', false],
    full_name: ['text', false],
    birth_date: ['date', false],
    sex: ['text', false],
    phone: ['text', true],
    home_clinic_id: ['uuid', true],
    created_at: ['timestamptz', false],
    policy_number: ['text', true],
  },
  schedules: {
    id: ['uuid', false],
    practitioner_id: ['uuid', false],
    clinic_id: ['uuid', false],
    weekday: ['int2', false],
    start_time: ['time', false],
    end_time: ['time', false],
    slot_minutes: ['int2', false],
    break_start: ['time', true],
    break_end: ['time', true],
    valid_from: ['date', false],
    valid_to: ['date', true],
  },
  schedule_exceptions: {
    id: ['uuid', false],
    practitioner_id: ['uuid', false],
    starts_on: ['date', false],
    ends_on: ['date', false],
    reason: ['text', false],
  },
  slots: {
    id: ['uuid', false],
    practitioner_id: ['uuid', false],
    clinic_id: ['uuid', false],
    starts_at: ['timestamptz', false],
    ends_at: ['timestamptz', false],
    status: ['text', false],
  },
  lab_tests: {
    loinc: ['text', false],
    name: ['text', false],
    unit: ['text', false],
    specimen_type: ['text', false],
    physio_low: ['numeric', true],
    physio_high: ['numeric', true],
  },
  lab_reference_ranges: {
    id: ['uuid', false],
    loinc: ['text', false],
    sex: ['text', true],
    ref_low: ['numeric', true],
    ref_high: ['numeric', true],
    critical_low: ['numeric', true],
    critical_high: ['numeric', true],
    source: ['text', false],
    age_min_years: ['int4', true],
    age_max_years: ['int4', true],
  },
  appointments: {
    id: ['uuid', false],
    slot_id: ['uuid', false],
    patient_id: ['uuid', false],
    practitioner_id: ['uuid', false],
    clinic_id: ['uuid', false],
    starts_at: ['timestamptz', false],
    ends_at: ['timestamptz', false],
    status: ['text', false],
    hold_expires_at: ['timestamptz', true],
    workflow_id: ['text', false],
    booked_by: ['text', false],
    cancel_reason: ['text', true],
    created_at: ['timestamptz', false],
    updated_at: ['timestamptz', false],
    process_started_at: ['timestamptz', true],
  },
  booking_policies: {
    clinic_id: ['uuid', false],
    horizon_days: ['int4', false],
    max_active_per_specialty: ['int4', false],
    hold_seconds: ['int4', false],
    offer_hold_seconds: ['int4', false],
    reminder_lead_seconds: ['int4', false],
    no_show_grace_seconds: ['int4', false],
  },
  waitlist_entries: {
    id: ['uuid', false],
    patient_id: ['uuid', false],
    specialty: ['text', false],
    practitioner_id: ['uuid', true],
    clinic_id: ['uuid', true],
    wanted_before: ['timestamptz', false],
    status: ['text', false],
    offered_appointment_id: ['uuid', true],
    created_by: ['text', false],
    created_at: ['timestamptz', false],
  },
  notifications: {
    id: ['uuid', false],
    patient_id: ['uuid', false],
    appointment_id: ['uuid', true],
    lab_order_id: ['uuid', true],
    kind: ['text', false],
    dedupe_key: ['text', false],
    created_at: ['timestamptz', false],
    dispatched_at: ['timestamptz', true],
  },
  referrals: {
    id: ['uuid', false],
    patient_id: ['uuid', false],
    clinic_id: ['uuid', false],
    referring_practitioner_id: ['uuid', true],
    specialty: ['text', false],
    priority: ['text', false],
    status: ['text', false],
    deadline_at: ['timestamptz', false],
    appointment_id: ['uuid', true],
    report_received_at: ['timestamptz', true],
    workflow_id: ['text', false],
    created_by: ['text', false],
    created_at: ['timestamptz', false],
    updated_at: ['timestamptz', false],
    kind: ['text', false],
    urgency: ['text', false],
    icd10: ['text', true],
    reason: ['text', true],
    target_practitioner_id: ['uuid', true],
    target_test: ['text', true],
    valid_until: ['timestamptz', false],
    breached: ['bool', false],
    escalation_level: ['int2', false],
    offered_slots: ['jsonb', false],
    no_shows: ['int2', false],
    booked_at: ['timestamptz', true],
    acknowledged_at: ['timestamptz', true],
    acknowledged_by: ['text', true],
    cancel_reason: ['text', true],
    closed_at: ['timestamptz', true],
  },
  referral_events: {
    id: ['uuid', false],
    referral_id: ['uuid', false],
    at: ['timestamptz', false],
    step: ['text', false],
    actor: ['text', false],
    details: ['jsonb', false],
    dedupe_key: ['text', false],
  },
  referral_reports: {
    referral_id: ['uuid', false],
    practitioner_id: ['uuid', false],
    patient_id: ['uuid', false],
    conclusion: ['text', false],
    icd10: ['_text', false],
    recommendations: ['text', false],
    created_at: ['timestamptz', false],
  },
  referral_policies: {
    id: ['uuid', false],
    clinic_id: ['uuid', true],
    region: ['text', true],
    kind: ['text', false],
    urgency: ['text', false],
    wait_working_days: ['int4', true],
    wait_hours: ['int4', true],
    wait_seconds: ['int4', true],
    escalation_share: ['numeric', false],
    acknowledge_seconds: ['int4', false],
    no_show_limit: ['int4', false],
    validity_days: ['int4', false],
    effective_from: ['timestamptz', false],
    created_by: ['text', true],
    created_at: ['timestamptz', false],
  },
  clinic_calendars: { clinic_id: ['uuid', false], country: ['text', false], region: ['text', true] },
  clinic_closures: { clinic_id: ['uuid', false], closed_on: ['date', false], reason: ['text', false] },
  clinic_calendar_versions: {
    id: ['uuid', false],
    clinic_id: ['uuid', false],
    country: ['text', false],
    region: ['text', true],
    effective_from: ['timestamptz', false],
    created_by: ['text', false],
    created_at: ['timestamptz', false],
  },
  lab_escalation_policies: {
    id: ['uuid', false],
    clinic_id: ['uuid', true],
    escalate_covering_seconds: ['int4', false],
    escalate_head_seconds: ['int4', false],
    effective_from: ['timestamptz', false],
    created_by: ['text', false],
    created_at: ['timestamptz', false],
  },
  lab_critical_ranges: {
    id: ['uuid', false],
    loinc: ['text', false],
    critical_low: ['float8', true],
    critical_high: ['float8', true],
    effective_from: ['timestamptz', false],
    created_by: ['text', false],
    created_at: ['timestamptz', false],
  },
  lab_orders: {
    id: ['uuid', false],
    patient_id: ['uuid', false],
    clinic_id: ['uuid', false],
    ordering_practitioner_id: ['uuid', false],
    tests: ['_text', false],
    priority: ['text', false],
    status: ['text', false],
    workflow_id: ['text', false],
    created_at: ['timestamptz', false],
    updated_at: ['timestamptz', false],
    clinical_note: ['text', true],
    created_by: ['text', true],
    deadline_at: ['timestamptz', true],
    overdue: ['bool', false],
    barcode: ['text', true],
    collected_by: ['text', true],
    collected_at: ['timestamptz', true],
    received_at: ['timestamptz', true],
    resulted_at: ['timestamptz', true],
    final_at: ['timestamptz', true],
    acknowledged_at: ['timestamptz', true],
    acknowledged_by: ['text', true],
    ack_seconds: ['float8', true],
    cancelled_at: ['timestamptz', true],
    cancel_reason: ['text', true],
    rejection_count: ['int4', false],
    critical_pending: ['bool', false],
    round: ['int4', false],
  },
  specimens: {
    id: ['uuid', false],
    lab_order_id: ['uuid', false],
    specimen_type: ['text', false],
    status: ['text', false],
    collected_at: ['timestamptz', false],
    received_at: ['timestamptz', true],
  },
  lab_results: {
    id: ['uuid', false],
    lab_order_id: ['uuid', false],
    loinc: ['text', false],
    value: ['numeric', false],
    unit: ['text', false],
    interpretation: ['text', true],
    status: ['text', false],
    resulted_at: ['timestamptz', false],
    acknowledged_at: ['timestamptz', true],
    acknowledged_by: ['text', true],
  },
  cds_assessments: {
    id: ['uuid', false],
    request_key: ['text', false],
    service_id: ['text', false],
    patient_ref: ['text', false],
    lab_order_id: ['uuid', true],
    model_id: ['text', true],
    model_version: ['text', true],
    inputs: ['jsonb', false],
    output: ['jsonb', false],
    score: ['float8', true],
    band: ['text', true],
    created_at: ['timestamptz', false],
  },
  onboarding_tasks: {
    id: ['uuid', false],
    clinic_id: ['uuid', false],
    stage: ['text', false],
    task: ['text', false],
    status: ['text', false],
    approved_by: ['text', true],
    completed_at: ['timestamptz', true],
    workflow_id: ['text', false],
    created_at: ['timestamptz', false],
    title: ['text', false],
    owner_role: ['text', false],
    deadline_at: ['timestamptz', true],
    blocked: ['bool', false],
    escalations: ['int4', false],
    updated_at: ['timestamptz', false],
  },
  equipment_items: {
    id: ['uuid', false],
    clinic_id: ['uuid', false],
    item_code: ['text', false],
    kind: ['text', false],
    ordered_at: ['timestamptz', true],
    delivered_at: ['timestamptz', true],
    installed_at: ['timestamptz', true],
    created_at: ['timestamptz', false],
  },
  clinic_staff: {
    id: ['uuid', false],
    clinic_id: ['uuid', false],
    staff_code: ['text', false],
    role: ['text', false],
    trained_at: ['timestamptz', true],
    certified_at: ['timestamptz', true],
    created_at: ['timestamptz', false],
  },
  onboarding_blockers: {
    id: ['uuid', false],
    clinic_id: ['uuid', false],
    stage: ['text', false],
    description: ['text', false],
    reported_by: ['text', false],
    reported_at: ['timestamptz', false],
    resolved_by: ['text', true],
    resolved_at: ['timestamptz', true],
  },
  pilot_incidents: {
    id: ['uuid', false],
    clinic_id: ['uuid', false],
    blocking: ['bool', false],
    status: ['text', false],
    description: ['text', false],
    reported_by: ['text', false],
    reported_at: ['timestamptz', false],
    resolved_by: ['text', true],
    resolved_at: ['timestamptz', true],
  },
  onboarding_events: {
    id: ['int8', false],
    clinic_id: ['uuid', false],
    workflow_id: ['text', false],
    kind: ['text', false],
    stage: ['text', false],
    details: ['jsonb', false],
    dedupe_key: ['text', false],
    at: ['timestamptz', false],
  },
  rollout_programs: {
    id: ['uuid', false],
    name: ['text', false],
    workflow_id: ['text', false],
    pilot_clinic_ids: ['_text', false],
    clinic_ids: ['_text', false],
    policy: ['jsonb', false],
    created_by: ['text', false],
    created_at: ['timestamptz', false],
  },
  lab_test_units: { loinc: ['text', false], unit: ['text', false], factor: ['float8', false] },
  lab_panels: { code: ['text', false], name: ['text', false] },
  lab_panel_tests: { panel_code: ['text', false], loinc: ['text', false] },
  lab_order_events: {
    id: ['uuid', false],
    lab_order_id: ['uuid', false],
    at: ['timestamptz', false],
    kind: ['text', false],
    actor: ['text', false],
    details: ['jsonb', false],
    dedupe_key: ['text', false],
  },
  lab_result_versions: {
    id: ['uuid', false],
    lab_order_id: ['uuid', false],
    loinc: ['text', false],
    version: ['int4', false],
    value: ['float8', false],
    unit: ['text', false],
    reported_value: ['float8', false],
    reported_unit: ['text', false],
    interpretation: ['text', false],
    ref_low: ['float8', true],
    ref_high: ['float8', true],
    status: ['text', false],
    source: ['text', false],
    posted_by: ['text', false],
    resulted_at: ['timestamptz', false],
  },
  lab_critical_notifications: {
    id: ['uuid', false],
    lab_order_id: ['uuid', false],
    round: ['int4', false],
    step: ['text', false],
    recipient_practitioner_id: ['uuid', true],
    notified_at: ['timestamptz', false],
  },
  lab_acknowledgements: {
    id: ['uuid', false],
    lab_order_id: ['uuid', false],
    round: ['int4', false],
    practitioner_id: ['uuid', false],
    read_back: ['jsonb', false],
    critical: ['bool', false],
    seconds_from_final: ['float8', false],
    acknowledged_at: ['timestamptz', false],
  },
  lab_specimen_rejections: {
    id: ['uuid', false],
    lab_order_id: ['uuid', false],
    attempt: ['int4', false],
    reason: ['text', false],
    barcode: ['text', true],
    rejected_by: ['text', false],
    rejected_at: ['timestamptz', false],
  },
  lab_cds_cards: {
    lab_order_id: ['uuid', false],
    round: ['int4', false],
    assessment_id: ['uuid', true],
    cards: ['jsonb', false],
    created_at: ['timestamptz', false],
  },
  lab_notifications: {
    id: ['uuid', false],
    lab_order_id: ['uuid', false],
    practitioner_id: ['uuid', true],
    kind: ['text', false],
    dedupe_key: ['text', false],
    created_at: ['timestamptz', false],
    sent_at: ['timestamptz', true],
    dispatched_at: ['timestamptz', true],
  },
  lab_escalation_contacts: { clinic_id: ['uuid', false], covering_practitioner_id: ['uuid', true], head_practitioner_id: ['uuid', true] },
  lab_order_policies: { clinic_id: ['uuid', false], policy: ['jsonb', false] },
  patient_vitals: {
    id: ['uuid', false],
    patient_id: ['uuid', false],
    loinc: ['text', false],
    value: ['float8', false],
    unit: ['text', false],
    effective_at: ['timestamptz', false],
    recorded_by: ['text', false],
    dedupe_key: ['text', false],
    created_at: ['timestamptz', false],
  },
  audit_log: {
    id: ['int8', false],
    at: ['timestamptz', false],
    actor: ['text', false],
    action: ['text', false],
    entity: ['text', false],
    entity_id: ['text', false],
    workflow_id: ['text', true],
    dedupe_key: ['text', true],
    details: ['jsonb', false],
    outcome: ['text', false],
  },
  diagnosis_suggestions: {
    id: ['uuid', false],
    request_key: ['text', true],
    source: ['text', false],
    requested_by: ['text', false],
    practitioner_id: ['uuid', true],
    clinic_id: ['uuid', true],
    appointment_id: ['uuid', true],
    patient_ref: ['text', true],
    text: ['text', false],
    model_id: ['text', false],
    model_version: ['text', false],
    codes: ['_text', false],
    probabilities: ['_float8', false],
    top_probability: ['float8', false],
    low_confidence: ['bool', false],
    created_at: ['timestamptz', false],
  },
  visit_diagnoses: {
    appointment_id: ['uuid', false],
    patient_id: ['uuid', false],
    clinic_id: ['uuid', false],
    practitioner_id: ['uuid', false],
    code: ['text', false],
    title: ['text', false],
    recorded_by: ['text', false],
    suggestion_id: ['uuid', true],
    in_top1: ['bool', true],
    in_top3: ['bool', true],
    recorded_at: ['timestamptz', false],
  },
  lab_messages: {
    id: ['uuid', false],
    received_at: ['timestamptz', false],
    transport: ['text', false],
    sending_application: ['text', false],
    sending_facility: ['text', false],
    caller: ['text', true],
    peer: ['text', true],
    clinic_id: ['uuid', true],
    control_id: ['text', false],
    sha256: ['text', false],
    size_bytes: ['int4', false],
    raw: ['bytea', false],
    status: ['text', false],
    ack_code: ['text', true],
    ack: ['text', true],
    reason: ['text', true],
    problems: ['jsonb', false],
    placer_order_id: ['text', true],
    lab_order_id: ['uuid', true],
    answered_at: ['timestamptz', true],
    resolved_by: ['text', true],
    resolved_at: ['timestamptz', true],
    resolution: ['text', true],
    resolution_reason: ['text', true],
  },
  lab_message_control_ids: {
    sending_application: ['text', false],
    sending_facility: ['text', false],
    control_id: ['text', false],
    message_id: ['uuid', false],
    sha256: ['text', false],
  },
  process_outbox: {
    id: ['int8', false],
    task_queue: ['text', false],
    workflow_id: ['text', false],
    process: ['text', false],
    kind: ['text', false],
    subject_id: ['uuid', false],
    payload: ['jsonb', false],
    created_at: ['timestamptz', false],
    available_at: ['timestamptz', false],
    attempts: ['int4', false],
    last_error: ['text', true],
    done_at: ['timestamptz', true],
  },
  web_sessions: {
    id_hash: ['text', false],
    caller: ['jsonb', false],
    csrf_token: ['text', false],
    signed_in_by: ['text', false],
    created_at: ['timestamptz', false],
    expires_at: ['timestamptz', false],
    oidc_refresh_token: ['text', true],
    oidc_id_token: ['text', true],
    oidc_refresh_at: ['timestamptz', true],
  },
  contact_points: {
    owner_type: ['text', false],
    owner_id: ['uuid', false],
    channel: ['text', false],
    address: ['text', true],
    consent: ['bool', false],
    preferred: ['bool', false],
    updated_by: ['text', false],
    updated_at: ['timestamptz', false],
  },
  on_call_roster: {
    id: ['uuid', false],
    clinic_id: ['uuid', false],
    department: ['text', false],
    role: ['text', false],
    practitioner_id: ['uuid', false],
    starts_at: ['timestamptz', false],
    ends_at: ['timestamptz', false],
    created_by: ['text', false],
    created_at: ['timestamptz', false],
    removed_at: ['timestamptz', true],
  },
  deliveries: {
    id: ['uuid', false],
    dedupe_key: ['text', false],
    message_key: ['text', false],
    kind: ['text', false],
    recipient_type: ['text', false],
    recipient_id: ['uuid', true],
    channel: ['text', false],
    address: ['text', true],
    status: ['text', false],
    reason: ['text', true],
    attempts: ['int4', false],
    provider_id: ['text', true],
    appointment_id: ['uuid', true],
    lab_order_id: ['uuid', true],
    referral_id: ['uuid', true],
    decided_at: ['timestamptz', false],
    not_before: ['timestamptz', true],
    queued_at: ['timestamptz', false],
    sent_at: ['timestamptz', true],
    delivered_at: ['timestamptz', true],
    failed_at: ['timestamptz', true],
  },
  inbox_messages: {
    id: ['uuid', false],
    delivery_key: ['text', false],
    recipient_type: ['text', false],
    recipient_id: ['uuid', false],
    kind: ['text', false],
    subject: ['text', false],
    body: ['text', false],
    link: ['text', true],
    created_at: ['timestamptz', false],
    read_at: ['timestamptz', true],
  },
  staff_notifications: {
    id: ['uuid', false],
    kind: ['text', false],
    clinic_id: ['uuid', false],
    practitioner_id: ['uuid', true],
    referral_id: ['uuid', true],
    dedupe_key: ['text', false],
    created_at: ['timestamptz', false],
    dispatched_at: ['timestamptz', true],
  },
};

const dbName = `migration_test_${process.pid}_${Date.now()}`;
let admin: pg.Client;
let db: Db;

beforeAll(async () => {
  admin = new pg.Client(process.env.DATABASE_URL);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${dbName}`;
  db = createDb(url.toString(), 2);
});

afterAll(async () => {
  await db.destroy();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
  await admin.end();
});

describe('migrations', () => {
  test('every migration file is listed, in file-name order', () => {
    const files = readdirSync(path.join(__dirname, '../db/migrations'))
      .filter((f) => /^\d{4}_\d{2}_\d{2}_\d{4}_.+\.ts$/.test(f) && !f.endsWith('.test.ts'))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect(Object.keys(migrations)).toEqual(files);
  });

  test('run up on an empty database, and a second run has nothing to do', async () => {
    const first = await migrateToLatest(db);
    expect(first.results?.map((r) => [r.migrationName, r.status])).toEqual(Object.keys(migrations).map((m) => [m, 'Success']));
    const second = await migrateToLatest(db);
    expect(second.results).toEqual([]);
  });

  test('leave a schema whose tables, columns, types and nullability match the Kysely Database types', async () => {
    const { rows } = await sql<{ table_name: string; column_name: string; udt_name: string; is_nullable: 'YES' | 'NO' }>`
      SELECT table_name, column_name, udt_name, is_nullable FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name NOT LIKE 'kysely_%'`.execute(db);
    const actual: Record<string, Record<string, [string, boolean]>> = {};
    for (const r of rows) (actual[r.table_name] ??= {})[r.column_name] = [r.udt_name, r.is_nullable === 'YES'];
    expect(actual).toEqual(expected);
  });

  test('make double booking of a slot and overlapping visits of one patient impossible in the database itself', async () => {
    const clinic = await db
      .insertInto('clinics')
      .values({ code: 'T-1', name: 'Test', address: 'x', time_zone: 'Europe/Moscow' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const practitioner = await db
      .insertInto('practitioners')
      .values({ clinic_id: clinic.id, full_name: 'Dr Test', specialty: 'cardiology' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const other = await db
      .insertInto('practitioners')
      .values({ clinic_id: clinic.id, full_name: 'Dr Other', specialty: 'neurology' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const [p1, p2] = await db
      .insertInto('patients')
      .values([
        { full_name: 'A', birth_date: '1970-01-01', sex: 'female', phone: null, home_clinic_id: null },
        { full_name: 'B', birth_date: '1980-01-01', sex: 'male', phone: null, home_clinic_id: null },
      ])
      .returning('id')
      .execute();
    const slot = await db
      .insertInto('slots')
      .values({
        practitioner_id: practitioner.id,
        clinic_id: clinic.id,
        starts_at: '2026-12-01T09:00:00Z',
        ends_at: '2026-12-01T09:20:00Z',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const overlapping = await db
      .insertInto('slots')
      .values({ practitioner_id: other.id, clinic_id: clinic.id, starts_at: '2026-12-01T09:10:00Z', ends_at: '2026-12-01T09:30:00Z' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const book = (
      slotId: string,
      patientId: string,
      practitionerId: string,
      startsAt: string,
      endsAt: string,
      status: 'held' | 'cancelled' = 'held',
    ) =>
      db
        .insertInto('appointments')
        .values({
          id: randomUUID(),
          slot_id: slotId,
          patient_id: patientId,
          practitioner_id: practitionerId,
          clinic_id: clinic.id,
          starts_at: startsAt,
          ends_at: endsAt,
          status,
          hold_expires_at: null,
          workflow_id: `wf-${Math.random()}`,
          booked_by: 'test',
          cancel_reason: null,
        })
        .execute();

    await book(slot.id, p1!.id, practitioner.id, '2026-12-01T09:00:00Z', '2026-12-01T09:20:00Z');
    await expect(book(slot.id, p2!.id, practitioner.id, '2026-12-01T09:00:00Z', '2026-12-01T09:20:00Z')).rejects.toMatchObject({
      code: '23505',
      constraint: 'appointments_slot_live_uniq',
    });
    await expect(book(overlapping.id, p1!.id, other.id, '2026-12-01T09:10:00Z', '2026-12-01T09:30:00Z')).rejects.toMatchObject({
      code: '23P01',
      constraint: 'appointments_patient_no_overlap',
    });
    // Cancelled appointments hold nothing: the slot can be booked again.
    await db.updateTable('appointments').set({ status: 'cancelled' }).where('slot_id', '=', slot.id).execute();
    await expect(book(slot.id, p2!.id, practitioner.id, '2026-12-01T09:00:00Z', '2026-12-01T09:20:00Z')).resolves.toBeDefined();
  });
});

describe('the connection pool', () => {
  test('survives Postgres closing an idle connection, and the next query opens a new one', async () => {
    const before = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db);
    const pid = before.rows[0]!.pid;
    // The pool's client sits idle; Postgres ends its session as a restart would.
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await new Promise((r) => setTimeout(r, 200));
    const after = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db);
    expect(after.rows[0]!.pid).not.toBe(pid);
  });
});
