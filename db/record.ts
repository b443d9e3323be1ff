/**
 * The patient's record from Postgres: one UNION ALL over appointments, referrals, lab reports
 * (orders with released results), critical-value events, CDS assessments and visit diagnoses, newest first, keyset
 * paged on (at, kind, id). `at_key` is `at` at microsecond precision, so the cursor loses nothing.
 */
import { sql } from 'kysely';
import type { Db } from './index';
import { currentResults } from './lab-order';
import { RELEASED_RESULT_STATUSES, type RecordCursor, type RecordItem, type RecordResult } from '../domain/record';

interface Row {
  at: Date;
  at_key: string;
  kind: RecordItem['kind'];
  id: string;
  data: Record<string, unknown>;
}

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());

export async function patientRecordPage(
  db: Db,
  patientId: string,
  cursor: RecordCursor | null,
  limit: number,
): Promise<{ items: RecordItem[]; next: RecordCursor | null }> {
  const after = cursor ? sql`WHERE (x.at, x.kind, x.id) < (${cursor.at}::timestamptz, ${cursor.kind}, ${cursor.id})` : sql``;
  const { rows } = await sql<Row>`
    SELECT x.at, to_char(x.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at_key, x.kind, x.id, x.data FROM (
      SELECT a.starts_at AS at, 'appointment' AS kind, a.id::text AS id,
             jsonb_build_object('status', a.status, 'clinicId', a.clinic_id, 'practitionerId', a.practitioner_id, 'startsAt', a.starts_at, 'endsAt', a.ends_at) AS data
        FROM appointments a WHERE a.patient_id = ${patientId}
      UNION ALL
      SELECT r.created_at, 'referral', r.id::text,
             jsonb_build_object('status', r.status, 'breached', r.breached, 'deadlineAt', r.deadline_at, 'clinicId', r.clinic_id, 'referringPractitionerId', r.referring_practitioner_id,
                                'specialty', r.specialty, 'urgency', r.urgency, 'icd10', r.icd10, 'targetPractitionerId', r.target_practitioner_id, 'appointmentId', r.appointment_id)
        FROM referrals r WHERE r.patient_id = ${patientId}
      UNION ALL
      SELECT COALESCE(o.final_at, o.resulted_at, o.updated_at), 'lab-report', o.id::text,
             jsonb_build_object('status', o.status, 'clinicId', o.clinic_id, 'orderingPractitionerId', o.ordering_practitioner_id, 'tests', to_jsonb(o.tests))
        FROM lab_orders o WHERE o.patient_id = ${patientId}
         AND EXISTS (SELECT 1 FROM lab_result_versions v WHERE v.lab_order_id = o.id AND v.status = ANY(${`{${RELEASED_RESULT_STATUSES.join(',')}}`}::text[]))
      UNION ALL
      SELECT n.notified_at, 'critical-event', 'n' || n.id::text,
             jsonb_build_object('event', 'notified', 'labOrderId', o.id, 'clinicId', o.clinic_id, 'step', n.step, 'practitionerId', n.recipient_practitioner_id)
        FROM lab_critical_notifications n JOIN lab_orders o ON o.id = n.lab_order_id WHERE o.patient_id = ${patientId}
      UNION ALL
      SELECT k.acknowledged_at, 'critical-event', 'a' || k.id::text,
             jsonb_build_object('event', 'acknowledged', 'labOrderId', o.id, 'clinicId', o.clinic_id, 'practitionerId', k.practitioner_id, 'secondsFromFinal', k.seconds_from_final)
        FROM lab_acknowledgements k JOIN lab_orders o ON o.id = k.lab_order_id WHERE o.patient_id = ${patientId} AND k.critical
      UNION ALL
      SELECT s.created_at, 'cds-assessment', s.id::text,
             jsonb_build_object('serviceId', s.service_id, 'modelId', s.model_id, 'modelVersion', s.model_version, 'score', s.score, 'band', s.band, 'labOrderId', s.lab_order_id)
        FROM cds_assessments s WHERE s.patient_ref = ${patientId}::text
      UNION ALL
      SELECT d.recorded_at, 'diagnosis', d.appointment_id::text,
             jsonb_build_object('code', d.code, 'title', d.title, 'appointmentId', d.appointment_id, 'clinicId', d.clinic_id, 'practitionerId', d.practitioner_id)
        FROM visit_diagnoses d WHERE d.patient_id = ${patientId}
    ) x ${after}
    ORDER BY x.at DESC, x.kind DESC, x.id DESC
    LIMIT ${limit + 1}`.execute(db);

  const page = rows.slice(0, limit);
  const orderIds = page.filter((r) => r.kind === 'lab-report').map((r) => r.id);
  const results = (await currentResults(db, orderIds)).filter((r) => RELEASED_RESULT_STATUSES.includes(r.status));
  const items = page.map((r): RecordItem => toItem(r, results));
  const last = page[page.length - 1];
  return { items, next: rows.length > limit && last ? { at: last.at_key, kind: last.kind, id: last.id } : null };
}

type ResultRow = Awaited<ReturnType<typeof currentResults>>[number];

function toItem(r: Row, results: ResultRow[]): RecordItem {
  const d = r.data as Record<string, any>;
  const at = r.at.toISOString();
  switch (r.kind) {
    case 'appointment':
      return {
        kind: 'appointment',
        id: r.id,
        at,
        status: d.status,
        clinicId: d.clinicId,
        practitionerId: d.practitionerId,
        startsAt: iso(d.startsAt)!,
        endsAt: iso(d.endsAt)!,
      };
    case 'referral':
      return {
        kind: 'referral',
        id: r.id,
        at,
        status: d.status,
        breached: d.breached,
        deadlineAt: iso(d.deadlineAt)!,
        clinicId: d.clinicId,
        referringPractitionerId: d.referringPractitionerId,
        specialty: d.specialty,
        urgency: d.urgency,
        icd10: d.icd10,
        targetPractitionerId: d.targetPractitionerId,
        appointmentId: d.appointmentId,
      };
    case 'lab-report': {
      const mine: RecordResult[] = results
        .filter((x) => x.lab_order_id === r.id)
        .map((x) => ({
          loinc: x.loinc,
          name: x.name,
          value: x.value,
          unit: x.unit,
          flag: x.interpretation,
          refLow: x.ref_low,
          refHigh: x.ref_high,
          status: x.status,
          version: x.version,
          resultedAt: x.resulted_at.toISOString(),
        }));
      return {
        kind: 'lab-report',
        id: r.id,
        at,
        status: d.status,
        clinicId: d.clinicId,
        orderingPractitionerId: d.orderingPractitionerId,
        tests: d.tests,
        amended: mine.some((x) => x.version > 1),
        results: mine,
      };
    }
    case 'critical-event':
      return {
        kind: 'critical-event',
        id: r.id,
        at,
        event: d.event,
        labOrderId: d.labOrderId,
        clinicId: d.clinicId,
        step: d.step ?? null,
        practitionerId: d.practitionerId ?? null,
        secondsFromFinal: d.secondsFromFinal ?? null,
      };
    case 'cds-assessment':
      return {
        kind: 'cds-assessment',
        id: r.id,
        at,
        serviceId: d.serviceId,
        modelId: d.modelId,
        modelVersion: d.modelVersion,
        score: d.score === null ? null : Number(d.score),
        band: d.band,
        labOrderId: d.labOrderId,
      };
    case 'diagnosis':
      return {
        kind: 'diagnosis',
        id: r.id,
        at,
        code: d.code,
        title: d.title,
        appointmentId: d.appointmentId,
        clinicId: d.clinicId,
        practitionerId: d.practitionerId,
      };
  }
}
