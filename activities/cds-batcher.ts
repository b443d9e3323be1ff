/**
 * Batches concurrent inference requests for one model into one `session.run`: a batch is sent
 * when it reaches maxBatchSize rows or maxWaitMs after its first row, whichever comes first.
 * Batching off is maxBatchSize 1 (every request runs alone at once).
 */
import * as ort from 'onnxruntime-node';
import type { LoadedModel } from './cds-models';

export interface BatchSettings {
  maxBatchSize: number;
  maxWaitMs: number;
}

interface Pending {
  row: ArrayLike<number>;
  resolve(score: number): void;
  reject(err: unknown): void;
}

export class ModelBatcher {
  /** How many session.run calls and rows this batcher has made (for tests and the benchmark). */
  readonly stats = { runs: 0, rows: 0, maxBatch: 0 };
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly nFeatures: number;

  constructor(
    private readonly model: LoadedModel,
    private readonly settings: BatchSettings,
  ) {
    if (!(settings.maxBatchSize >= 1) || !(settings.maxWaitMs >= 0)) throw new Error('batch size must be >= 1 and wait >= 0');
    this.nFeatures = model.meta.features.length;
  }

  /** Scores one row (raw features in the model's order); resolves with that row's output. */
  score(row: ArrayLike<number>): Promise<number> {
    if (row.length !== this.nFeatures) return Promise.reject(new Error(`expected ${this.nFeatures} features, got ${row.length}`));
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (this.queue.length >= this.settings.maxBatchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.settings.maxWaitMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.settings.maxBatchSize);
      void this.run(batch);
      // A partial remainder waits for more rows rather than running at once.
      if (this.queue.length > 0 && this.queue.length < this.settings.maxBatchSize) {
        this.timer = setTimeout(() => this.flush(), this.settings.maxWaitMs);
        break;
      }
    }
  }

  private async run(batch: Pending[]): Promise<void> {
    const n = batch.length;
    // onnxruntime scores a 1-row input through a different kernel (GEMV) than n >= 2 rows (GEMM),
    // and the two round differently by up to 2 float32 ulps (1.2e-4 at a score of 403). A lone row
    // is therefore sent twice, so every score is the same whether batched or not, and bit-equal
    // to the Python golden predictions (which were made in one batch).
    const rows = Math.max(n, 2);
    const data = new Float32Array(rows * this.nFeatures);
    batch.forEach((p, i) => data.set(p.row, i * this.nFeatures));
    if (n === 1) data.set(batch[0]!.row, this.nFeatures);
    const { inputName, outputName } = this.model.meta;
    this.stats.runs += 1;
    this.stats.rows += n;
    this.stats.maxBatch = Math.max(this.stats.maxBatch, n);
    try {
      const out = await this.model.session.run({ [inputName]: new ort.Tensor('float32', data, [rows, this.nFeatures]) });
      const scores = out[outputName]!.data as Float32Array;
      if (scores.length !== rows) throw new Error(`model ${this.model.meta.id} returned ${scores.length} outputs for ${rows} rows`);
      batch.forEach((p, i) => p.resolve(scores[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}

/** One batcher per loaded model, with the same settings. */
export function createBatchers(models: readonly LoadedModel[], settings: BatchSettings): Map<string, ModelBatcher> {
  return new Map(models.map((m) => [m.meta.id, new ModelBatcher(m, settings)]));
}
