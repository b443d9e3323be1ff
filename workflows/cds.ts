/**
 * One CDS assessment: the cds worker scores the features with a registered model, then the
 * clinical worker stores the assessment (model id and version, inputs, output, time) once, keyed
 * by this workflow's id. Started by the CDS Hooks API with id `cds-<hookInstance>-<serviceId>-<digest>`
 * (digest: a keyed hash of patient and features), so a repeated hook call returns the assessment
 * stored first and a reused hookInstance never returns another patient's.
 */
import { proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { createCdsActivities } from '../activities/cds';
import type { createCdsAssessmentActivities, StoredAssessment } from '../activities/cds-assessment';
import { CDS_TASK_QUEUE } from '../domain/task-queues';

type CdsActivities = ReturnType<typeof createCdsActivities>;
type CdsAssessmentActivities = ReturnType<typeof createCdsAssessmentActivities>;

// Invalid features and unknown models are non-retryable refusals: they fail the workflow at once.
const { scoreModel } = proxyActivities<CdsActivities>({
  taskQueue: CDS_TASK_QUEUE,
  startToCloseTimeout: '5s',
  retry: { maximumAttempts: 3, initialInterval: '200ms' },
});
// A doctor waits on this: the write runs as a local activity in the clinical worker (one round
// trip fewer through the server); it is keyed by the workflow id, so a retry writes nothing new.
const { recordAssessment } = proxyLocalActivities<CdsAssessmentActivities>({
  startToCloseTimeout: '5s',
  retry: { maximumAttempts: 5, initialInterval: '200ms' },
});

export interface CdsAssessmentInput {
  serviceId: string;
  /** The calling EHR's patient id (or ours). Stored in Postgres; never in ids or search attributes. */
  patientRef: string;
  modelId: string;
  features: Record<string, number>;
  /** Where each feature came from (prefetch values, notes), stored with the assessment. */
  provenance: unknown;
}

export type CdsAssessmentResult = StoredAssessment;

/** Scores and stores one assessment; returns the stored row's id, time and the model's answer. */
export async function cdsAssessmentWorkflow(input: CdsAssessmentInput): Promise<CdsAssessmentResult> {
  const scored = await scoreModel({ modelId: input.modelId, features: input.features });
  return recordAssessment({
    requestKey: workflowInfo().workflowId,
    serviceId: input.serviceId,
    patientRef: input.patientRef,
    modelId: scored.modelId,
    modelVersion: scored.modelVersion,
    inputs: { features: input.features, provenance: input.provenance },
    output: scored,
    score: scored.score,
    band: scored.band,
  });
}
