/**
 * One model assessment for a CDS Hooks call. The fast path: the cds worker's scoring endpoint
 * scores, and the assessment is stored here with the same activity code the workflow uses,
 * keyed by the same request key, so a repeated call finds the row stored first. The workflow
 * path (cdsAssessmentWorkflow) is the fallback when the endpoint is off, unreachable or
 * overloaded; both store the same row and answer the same refusals.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowIdConflictPolicy } from '@temporalio/common';
import { recordAssessment as storeAssessment, type StoredAssessment } from '../commands/cds';
import { cdsAssessmentWorkflow } from '../workflows/cds';
import { createInferenceClient } from './cds-inference';
import { cdsRequestDigest } from './cds-digest';
import { ApiError } from './errors';
import type { ApiDeps } from './router';

export interface AssessRequest {
  serviceId: string;
  hookInstance: string;
  patientRef: string;
  modelId: string;
  features: Record<string, number>;
  provenance: unknown;
}

/** The first ApplicationFailure in a failure's cause chain (activity → workflow → client). */
function applicationFailure(err: unknown): ApplicationFailure | undefined {
  for (let e = err as { cause?: unknown } | undefined; e; e = e.cause as typeof e) if (e instanceof ApplicationFailure) return e;
  return undefined;
}

function refusal(type: string | null | undefined, message: string, details: unknown): ApiError | undefined {
  if (type === 'InvalidFeatures') return new ApiError(422, 'invalid_features', `The model refused the inputs: ${message}`, details);
  if (type === 'ModelNotFound')
    return new ApiError(503, 'unavailable', 'The model this service needs is not loaded by the inference worker.');
  return undefined;
}

/** Scores and stores one assessment; maps the model's refusals to 4xx/5xx codes. */
export function createAssessor(deps: ApiDeps) {
  const inference = createInferenceClient(deps.config, deps.logger);
  const recordAssessment = (input: Parameters<typeof storeAssessment>[1]) => storeAssessment(deps.db, input);

  async function viaWorkflow(requestKey: string, req: AssessRequest): Promise<StoredAssessment> {
    try {
      return await deps.temporal.workflow.execute(cdsAssessmentWorkflow, {
        workflowId: requestKey,
        taskQueue: deps.config.CLINICAL_TASK_QUEUE,
        args: [
          {
            serviceId: req.serviceId,
            patientRef: req.patientRef,
            modelId: req.modelId,
            features: req.features,
            provenance: req.provenance,
          },
        ],
        workflowExecutionTimeout: '10s',
        // A repeated call while the first runs joins it; after it, the new run finds the stored row.
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      });
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      const failure = applicationFailure(err);
      throw (
        refusal(failure?.type, failure?.message ?? '', failure?.details?.[0]) ??
        new ApiError(504, 'timeout', 'The assessment did not complete in time.', { workflowId: requestKey })
      );
    }
  }

  return {
    async assess(req: AssessRequest): Promise<StoredAssessment> {
      // The same hookInstance with another patient or other values is another assessment: a keyed
      // digest (no readable patient data) of both joins its key, so a reused hookInstance never
      // returns someone else's card.
      const digest = cdsRequestDigest(deps.config, [req.patientRef, Object.entries(req.features).sort()]);
      const requestKey = `cds-${req.hookInstance}-${req.serviceId}-${digest}`;
      const answer = await inference?.score({ modelId: req.modelId, features: req.features });
      if (!answer) return viaWorkflow(requestKey, req);
      if (!answer.ok) throw refusal(answer.type, answer.message, answer.details)!;
      const scored = answer.score;
      return recordAssessment({
        requestKey,
        serviceId: req.serviceId,
        patientRef: req.patientRef,
        modelId: scored.modelId,
        modelVersion: scored.modelVersion,
        inputs: { features: req.features, provenance: req.provenance },
        output: scored,
        score: scored.score,
        band: scored.band,
      });
    },
    close: () => inference?.close(),
  };
}
