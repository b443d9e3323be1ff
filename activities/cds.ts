/** Inference activities served by the cds worker on its own task queue. */
import { bandFor } from '../domain/cds/model-meta';
import { createBatchers, type BatchSettings, type ModelBatcher } from './cds-batcher';
import type { ModelRegistry } from './cds-models';
import { refuse } from './errors';
import type { ModelScore, ScoreModelInput } from '../domain/cds/inference';
import { cdsScoreSeconds, timed } from '../platform/metrics';

export type { ScoreModelInput, FeatureContribution, ModelScore } from '../domain/cds/inference';
export { CDS_INFERENCE_PATH, CDS_INFERENCE_SECRET_HEADER, SUGGEST_DIAGNOSES_PATH } from '../domain/cds/inference';

/** Batching on by default with the config's settings; `{ maxBatchSize: 1, maxWaitMs: 0 }` turns it off. */
export function createCdsActivities(deps: { registry: ModelRegistry; batch?: BatchSettings; batchers?: Map<string, ModelBatcher> }) {
  const batchers = deps.batchers ?? createBatchers(deps.registry.list(), deps.batch ?? { maxBatchSize: 32, maxWaitMs: 2 });

  return {
    /** The models this worker has loaded, with what they take and return. */
    async listModels(): Promise<Array<{ id: string; version: string; features: string[] }>> {
      return deps.registry.list().map((m) => ({ id: m.meta.id, version: m.meta.version, features: m.meta.features.map((f) => f.name) }));
    },

    /**
     * Scores one feature vector with a registered model, batched with concurrent calls. Refuses
     * (non-retryable) an unknown model, and a missing, unknown or non-finite feature by name.
     * Called by cdsAssessmentWorkflow; the benchmark calls it in-process.
     */
    async scoreModel(input: ScoreModelInput): Promise<ModelScore> {
      // Labelled by model id only when it is one we serve (a label never carries caller input).
      const model = deps.registry.get(input.modelId)?.meta.id ?? 'unknown';
      return timed(cdsScoreSeconds, { model }, () => score(input));
    },
  };

  /** Validates, batches and scores one feature vector (scoreModel's body, timed there). */
  async function score(input: ScoreModelInput): Promise<ModelScore> {
    const model = deps.registry.get(input.modelId);
    const batcher = batchers.get(input.modelId);
    if (!model || !batcher)
      throw refuse('ModelNotFound', `Model ${String(input.modelId).slice(0, 80)} is not loaded by this worker.`, {
        modelId: input.modelId,
      });
    const { meta } = model;
    const given = input.features && typeof input.features === 'object' ? input.features : {};
    const known = new Set(meta.features.map((f) => f.name));
    const unknown = Object.keys(given).filter((k) => !known.has(k));
    if (unknown.length)
      throw refuse(
        'InvalidFeatures',
        `Unknown feature(s) for ${meta.id}: ${unknown
          .slice(0, 10)
          .map((k) => k.slice(0, 40))
          .join(', ')}.`,
        { problem: 'unknown', features: unknown.slice(0, 10) },
      );
    const missing = meta.features.filter((f) => !(f.name in given)).map((f) => f.name);
    if (missing.length)
      throw refuse('InvalidFeatures', `Missing feature(s) for ${meta.id}: ${missing.join(', ')}.`, {
        problem: 'missing',
        features: missing,
      });
    // NaN and ±Infinity arrive as null through Temporal's JSON payloads; every one is refused here.
    const nonFinite = meta.features.filter((f) => typeof given[f.name] !== 'number' || !Number.isFinite(given[f.name])).map((f) => f.name);
    if (nonFinite.length)
      throw refuse('InvalidFeatures', `Feature(s) not a finite number for ${meta.id}: ${nonFinite.join(', ')}.`, {
        problem: 'non-finite',
        features: nonFinite,
      });

    const row = meta.features.map((f) => given[f.name]!);
    const score = await batcher.score(row);
    const warnings = meta.features
      .filter((f, i) => row[i]! < f.min || row[i]! > f.max)
      .map((f) => `${f.name} outside the training range ${f.min}–${f.max}`);
    const linear = meta.explanation.method === 'linear-contributions';
    const contributions = linear
      ? meta.features.map((f, i) => ({
          feature: f.name,
          value: row[i]!,
          contribution: meta.explanation.coefficients![i]! * (row[i]! - f.mean),
        }))
      : [];
    if (!linear) warnings.push(`no exact per-feature explanation for model family ${meta.family}`);
    return {
      modelId: meta.id,
      modelVersion: meta.version,
      score,
      band: bandFor(meta, score),
      baseline: linear ? meta.explanation.baseline! : null,
      explanationMethod: linear ? 'linear-contributions' : 'none',
      contributions,
      warnings,
    };
  }
}
