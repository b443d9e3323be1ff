/**
 * The CDS scoring contract: what a model is asked and what it answers, shared by the cds worker
 * (activities and its internal endpoint), the clinical worker and the API, which calls the endpoint.
 */
export interface ScoreModelInput {
  modelId: string;
  /** Raw features by name, in the model's units (see the model's metadata). */
  features: Record<string, number>;
}

export interface FeatureContribution {
  feature: string;
  value: number;
  contribution: number;
}

export interface ModelScore {
  modelId: string;
  modelVersion: string;
  score: number;
  band: string;
  /** The score at the training-mean input; score = baseline + Σ contributions for a linear model. */
  baseline: number | null;
  /** How the contributions were computed ('linear-contributions'), or 'none' when the family has no exact one. */
  explanationMethod: string;
  contributions: FeatureContribution[];
  /** E.g. inputs outside the training range (extrapolation). Names and ranges only, never values. */
  warnings: string[];
}

/**
 * The cds worker's internal scoring endpoint (workers/cds-inference.ts), which the CDS Hooks API
 * calls instead of a workflow: POST this path with a ScoreModelInput and the shared secret in
 * this header; 200 is a ModelScore, 422/404 a refusal `{ type, message, details? }` (the same
 * refusals the scoreModel activity makes), 503 overloaded.
 */
export const CDS_INFERENCE_PATH = '/score';
export const CDS_INFERENCE_SECRET_HEADER = 'x-cds-inference-secret';
/** The same endpoint's diagnosis suggestions: `{ text }` → a SuggestionResult (domain/cds/diagnosis.ts); 422 InvalidInput, 404 ModelNotFound. */
export const SUGGEST_DIAGNOSES_PATH = '/suggest-diagnoses';
