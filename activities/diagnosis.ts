/**
 * Diagnosis suggestions on the cds worker: the text classifier `models/diagnosis-suggestions.onnx`
 * (TF-IDF + logistic regression, string input), loaded once, with concurrent texts batched into
 * one session.run (one pass over the weights for many texts). Served as an activity and through the
 * worker's scoring endpoint (workers/cds-inference.ts, POST /suggest-diagnoses).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  complaintsProblem,
  DIAGNOSIS_MODEL_ID,
  normalizeComplaints,
  parseDiagnosisModelMeta,
  rankSuggestions,
  type DiagnosisModelMeta,
  type SuggestionResult,
} from '../domain/cds/diagnosis';
import { cdsScoreSeconds, timed } from '../platform/metrics';
import type { BatchSettings } from './cds-batcher';
import { refuse } from './errors';

export interface DiagnosisModel {
  meta: DiagnosisModelMeta;
  session: ort.InferenceSession;
}

export interface SuggestDiagnosesInput {
  text: string;
}

/** Reads `models/diagnosis-suggestions.json` and its ONNX file; a graph that disagrees with the metadata stops the worker. */
export async function loadDiagnosisModel(dir: string, opts: { intraOpThreads?: number } = {}): Promise<DiagnosisModel> {
  const file = path.join(dir, `${DIAGNOSIS_MODEL_ID}.json`);
  const meta = parseDiagnosisModelMeta(JSON.parse(readFileSync(file, 'utf8')), `models/${DIAGNOSIS_MODEL_ID}.json`);
  const session = await ort.InferenceSession.create(path.join(dir, meta.file), {
    intraOpNumThreads: opts.intraOpThreads ?? 1,
    executionProviders: ['cpu'],
  });
  if (!session.inputNames.includes(meta.inputName) || !session.outputNames.includes(meta.outputName)) {
    throw new Error(
      `model ${meta.id}: the ONNX graph's input/output names (${session.inputNames}/${session.outputNames}) do not match its metadata`,
    );
  }
  return { meta, session };
}

interface Pending {
  text: string;
  resolve(p: Float32Array): void;
  reject(err: unknown): void;
}

/** Batches texts for one session.run: at maxBatchSize texts or maxWaitMs after the first, whichever comes first. */
export class TextBatcher {
  readonly stats = { runs: 0, rows: 0, maxBatch: 0 };
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly model: DiagnosisModel,
    private readonly settings: BatchSettings,
  ) {}

  /** The probabilities of one normalised text, in the metadata's label order. */
  probabilities(text: string): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({ text, resolve, reject });
      if (this.queue.length >= this.settings.maxBatchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.settings.maxWaitMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) void this.run(this.queue.splice(0, this.settings.maxBatchSize));
  }

  private async run(batch: Pending[]): Promise<void> {
    const { inputName, outputName, labels } = this.model.meta;
    this.stats.runs += 1;
    this.stats.rows += batch.length;
    this.stats.maxBatch = Math.max(this.stats.maxBatch, batch.length);
    try {
      const out = await this.model.session.run({
        [inputName]: new ort.Tensor(
          'string',
          batch.map((p) => p.text),
          [batch.length, 1],
        ),
      });
      const data = out[outputName]!.data as Float32Array;
      if (data.length !== batch.length * labels.length)
        throw new Error(`model ${this.model.meta.id} returned ${data.length} values for ${batch.length} texts`);
      batch.forEach((p, i) => p.resolve(data.slice(i * labels.length, (i + 1) * labels.length)));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}

/** The activity; batching with the cds worker's settings. */
export function createDiagnosisActivities(deps: { model: DiagnosisModel; batch?: BatchSettings; batcher?: TextBatcher }) {
  const batcher = deps.batcher ?? new TextBatcher(deps.model, deps.batch ?? { maxBatchSize: 32, maxWaitMs: 2 });
  return {
    /**
     * The three most probable ICD-10 codes for a complaints text, with bands and the low-confidence
     * flag. Refuses (non-retryable InvalidInput) a text the model cannot read; the text never
     * appears in the refusal.
     */
    async suggestDiagnoses(input: SuggestDiagnosesInput): Promise<SuggestionResult> {
      return timed(cdsScoreSeconds, { model: DIAGNOSIS_MODEL_ID }, async () => {
        const text = typeof input?.text === 'string' ? input.text : '';
        const problem = complaintsProblem(text);
        if (problem) throw refuse('InvalidInput', problem.message, { code: problem.code });
        return rankSuggestions(deps.model.meta, await batcher.probabilities(normalizeComplaints(text)));
      });
    },
  };
}

export type DiagnosisActivities = ReturnType<typeof createDiagnosisActivities>;
