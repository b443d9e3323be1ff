/** Storing a CDS assessment once (by its request key), for the clinical worker's activity and the API's fast path alike. */
import type { Db } from '../db';
import { insertAssessmentOnce } from '../db/cds';
import type { AssessmentForCard } from '../domain/cds/cards';
import type { FeatureContribution } from '../domain/cds/inference';

export interface RecordAssessmentInput {
  /** The workflow id (`cds-<hookInstance>-<serviceId>`): a retry or repeated call stores nothing new. */
  requestKey: string;
  serviceId: string;
  patientRef: string;
  modelId: string;
  modelVersion: string;
  /** The raw features scored and where they came from. */
  inputs: unknown;
  /** The model's whole answer (score, band, baseline, contributions, warnings). */
  output: unknown;
  score: number;
  band: string;
}

/** A stored assessment as the model card shows it (the shape lives with the card builder). */
export type StoredAssessment = AssessmentForCard;

/** Stores one assessment (model id and version, inputs, output, time) once; returns the stored row. */
export async function recordAssessment(db: Db, input: RecordAssessmentInput): Promise<StoredAssessment> {
  const row = await insertAssessmentOnce(db, {
    request_key: input.requestKey,
    service_id: input.serviceId,
    patient_ref: input.patientRef,
    lab_order_id: null,
    model_id: input.modelId,
    model_version: input.modelVersion,
    inputs: JSON.stringify(input.inputs),
    output: JSON.stringify(input.output),
    score: input.score,
    band: input.band,
  });
  const output = row.output as { baseline?: number | null; contributions?: FeatureContribution[]; warnings?: string[] };
  return {
    id: row.id,
    createdAt: row.created_at.toISOString(),
    modelId: row.model_id!,
    modelVersion: row.model_version!,
    score: row.score!,
    band: row.band!,
    baseline: output.baseline ?? null,
    contributions: output.contributions ?? [],
    warnings: output.warnings ?? [],
  };
}
