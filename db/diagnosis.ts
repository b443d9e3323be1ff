/**
 * Diagnosis suggestions and visit diagnoses: storing each answered suggestion, recording the
 * doctor's final code with whether the visit's latest suggestion had it, and the monitoring
 * figures (weekly Hit@1/Hit@3 per clinic, the share of low-confidence answers).
 */
import { sql } from 'kysely';
import { suggestionHit } from '../domain/cds/diagnosis';
import type { Db } from './index';

const WEEK_MS = 7 * 86_400_000;

export interface NewSuggestion {
  requestKey: string | null;
  source: 'api' | 'cds-hooks';
  requestedBy: string;
  practitionerId: string | null;
  clinicId: string | null;
  appointmentId: string | null;
  patientRef: string | null;
  text: string;
  modelId: string;
  modelVersion: string;
  codes: string[];
  probabilities: number[];
  topProbability: number;
  lowConfidence: boolean;
}

/** Stores one answered suggestion; with a request key, a repeat returns the row stored first. */
export async function insertSuggestion(db: Db, s: NewSuggestion): Promise<{ id: string; createdAt: Date }> {
  const values = {
    request_key: s.requestKey,
    source: s.source,
    requested_by: s.requestedBy,
    practitioner_id: s.practitionerId,
    clinic_id: s.clinicId,
    appointment_id: s.appointmentId,
    patient_ref: s.patientRef,
    text: s.text,
    model_id: s.modelId,
    model_version: s.modelVersion,
    codes: s.codes,
    probabilities: s.probabilities,
    top_probability: s.topProbability,
    low_confidence: s.lowConfidence,
  };
  if (s.requestKey === null) {
    const row = await db.insertInto('diagnosis_suggestions').values(values).returning(['id', 'created_at']).executeTakeFirstOrThrow();
    return { id: row.id, createdAt: row.created_at };
  }
  const inserted = await db
    .insertInto('diagnosis_suggestions')
    .values(values)
    .onConflict((oc) => oc.column('request_key').doNothing())
    .returning(['id', 'created_at'])
    .executeTakeFirst();
  const row =
    inserted ??
    (await db
      .selectFrom('diagnosis_suggestions')
      .select(['id', 'created_at'])
      .where('request_key', '=', s.requestKey)
      .executeTakeFirstOrThrow());
  return { id: row.id, createdAt: row.created_at };
}

export interface VisitForDiagnosis {
  id: string;
  patient_id: string;
  clinic_id: string;
  practitioner_id: string;
}

/**
 * The doctor's final diagnosis of a visit, with whether its category was the first or among the
 * three codes of the visit's latest suggestion. One transaction; a repeat replaces the code.
 */
export async function recordVisitDiagnosis(db: Db, visit: VisitForDiagnosis, d: { code: string; title: string; recordedBy: string }) {
  return db.transaction().execute(async (tx) => {
    await sql`SET LOCAL statement_timeout = '5s'`.execute(tx);
    await sql`SET LOCAL lock_timeout = '2s'`.execute(tx);
    const latest = await tx
      .selectFrom('diagnosis_suggestions')
      .select(['id', 'codes'])
      .where('appointment_id', '=', visit.id)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    const hit = latest ? suggestionHit(d.code, latest.codes) : null;
    const values = {
      appointment_id: visit.id,
      patient_id: visit.patient_id,
      clinic_id: visit.clinic_id,
      practitioner_id: visit.practitioner_id,
      code: d.code,
      title: d.title,
      recorded_by: d.recordedBy,
      suggestion_id: latest?.id ?? null,
      in_top1: hit?.top1 ?? null,
      in_top3: hit?.top3 ?? null,
    };
    return tx
      .insertInto('visit_diagnoses')
      .values(values)
      .onConflict((oc) =>
        oc.column('appointment_id').doUpdateSet({
          code: d.code,
          title: d.title,
          recorded_by: d.recordedBy,
          suggestion_id: values.suggestion_id,
          in_top1: values.in_top1,
          in_top3: values.in_top3,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

export interface ClinicHits {
  clinicId: string;
  /** The clinic's short code (a metrics label names the clinic by it, never by id). */
  clinicCode: string;
  /** Visits completed with a code that had a suggestion. */
  evaluated: number;
  hit1: number;
  hit3: number;
  hit3Rate: number;
}

/** Per clinic, over the seven days before `now`: visits completed with a code after a suggestion, and how often it was first / in three. */
export async function weeklyHitsByClinic(db: Db, now = new Date()): Promise<ClinicHits[]> {
  const rows = await db
    .selectFrom('visit_diagnoses as d')
    .innerJoin('clinics as c', 'c.id', 'd.clinic_id')
    .select((eb) => [
      'd.clinic_id',
      'c.code',
      eb.fn.countAll<string>().as('n'),
      sql<string>`count(*) FILTER (WHERE d.in_top1)`.as('top1'),
      sql<string>`count(*) FILTER (WHERE d.in_top3)`.as('top3'),
    ])
    .where('d.suggestion_id', 'is not', null)
    .where('d.recorded_at', '>', new Date(now.getTime() - WEEK_MS))
    .groupBy(['d.clinic_id', 'c.code'])
    .orderBy('c.code')
    .execute();
  return rows.map((r) => {
    const evaluated = Number(r.n);
    return {
      clinicId: r.clinic_id,
      clinicCode: r.code,
      evaluated,
      hit1: Number(r.top1),
      hit3: Number(r.top3),
      hit3Rate: evaluated ? Number(r.top3) / evaluated : 0,
    };
  });
}

/** Over the seven days before `now`: suggestions answered, and the share that were low-confidence (the drift signal). */
export async function weeklyLowConfidence(db: Db, now = new Date()): Promise<{ answered: number; lowConfidenceShare: number }> {
  const row = await db
    .selectFrom('diagnosis_suggestions')
    .select((eb) => [eb.fn.countAll<string>().as('n'), sql<string>`count(*) FILTER (WHERE low_confidence)`.as('low')])
    .where('created_at', '>', new Date(now.getTime() - WEEK_MS))
    .executeTakeFirstOrThrow();
  const answered = Number(row.n);
  return { answered, lowConfidenceShare: answered ? Number(row.low) / answered : 0 };
}
