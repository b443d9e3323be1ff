import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createBatchers } from './cds-batcher';
import { loadModelRegistry, type ModelRegistry } from './cds-models';
import { createCdsActivities } from './cds';
import { parseModelMeta } from '../domain/cds/model-meta';

const MODELS_DIR = path.join(__dirname, '../models');
const golden = JSON.parse(readFileSync(path.join(MODELS_DIR, 'golden/diabetes-progression.json'), 'utf8')) as {
  cases: Array<{ features: number[]; score: number }>;
};
const MODEL = 'diabetes-progression';

let registry: ModelRegistry;
let names: string[];
beforeAll(async () => {
  registry = await loadModelRegistry(MODELS_DIR);
  names = registry.get(MODEL)!.meta.features.map((f) => f.name);
});
const asRecord = (row: number[]) => Object.fromEntries(names.map((n, i) => [n, row[i]!]));

/** Counts the real session.run calls while fn runs. */
async function countingRuns<T>(fn: () => Promise<T>): Promise<{ result: T; runs: number }> {
  const spy = jest.spyOn(registry.get(MODEL)!.session, 'run');
  try {
    const result = await fn();
    return { result, runs: spy.mock.calls.length };
  } finally {
    spy.mockRestore();
  }
}

describe('the inference worker scores like the Python model', () => {
  test('every golden case scores within 1e-5 of the Python onnxruntime prediction, batching on and off', async () => {
    expect(golden.cases.length).toBeGreaterThanOrEqual(25);
    for (const batch of [
      { maxBatchSize: 32, maxWaitMs: 2 },
      { maxBatchSize: 1, maxWaitMs: 0 },
    ]) {
      const { scoreModel } = createCdsActivities({ registry, batch });
      const scored = await Promise.all(golden.cases.map((c) => scoreModel({ modelId: MODEL, features: asRecord(c.features) })));
      scored.forEach((s, i) => expect(Math.abs(s.score - golden.cases[i]!.score)).toBeLessThanOrEqual(1e-5));
    }
  });

  test('contributions are exact for the linear model: baseline + Σ contributions equals the ONNX score within 1e-4', async () => {
    const { scoreModel } = createCdsActivities({ registry });
    for (const c of golden.cases) {
      const s = await scoreModel({ modelId: MODEL, features: asRecord(c.features) });
      expect(s.explanationMethod).toBe('linear-contributions');
      expect(s.contributions.map((x) => x.feature)).toEqual(names);
      const sum = s.contributions.reduce((acc, x) => acc + x.contribution, 0);
      expect(Math.abs(s.baseline! + sum - s.score)).toBeLessThan(1e-4);
      expect(s).toMatchObject({ modelId: MODEL, modelVersion: '1.0.0' });
      expect(s.band).toBe(s.score <= 99 ? 'low' : s.score <= 185 ? 'moderate' : 'high');
    }
  });

  test("64 concurrent requests with batching on use fewer session.run calls, and each caller gets its own row's score", async () => {
    // A wait no run reaches: batches are cut by size alone, so the count does not depend on the machine's speed.
    const batchers = createBatchers(registry.list(), { maxBatchSize: 32, maxWaitMs: 600_000 });
    const { scoreModel } = createCdsActivities({ registry, batchers });
    const cases = Array.from({ length: 64 }, (_, i) => golden.cases[i % golden.cases.length]!);
    // Vary age per request so that a mixed-up row would show as a different score.
    const requests = cases.map((c, i) => ({ ...asRecord(c.features), age: 20 + i }));
    const { result, runs } = await countingRuns(() => Promise.all(requests.map((features) => scoreModel({ modelId: MODEL, features }))));
    expect(runs).toBe(2);
    expect(batchers.get(MODEL)!.stats).toMatchObject({ runs, rows: 64, maxBatch: 32 });

    const alone = createCdsActivities({ registry, batch: { maxBatchSize: 1, maxWaitMs: 0 } });
    const single = await countingRuns(async () => {
      const out = [];
      for (const features of requests) out.push(await alone.scoreModel({ modelId: MODEL, features }));
      return out;
    });
    expect(single.runs).toBe(64);
    result.forEach((s, i) => expect(s.score).toBe(single.result[i]!.score));
    expect(new Set(result.map((s) => s.score)).size).toBe(64);
  });

  test('batching off runs each of 16 concurrent requests alone', async () => {
    const { scoreModel } = createCdsActivities({ registry, batch: { maxBatchSize: 1, maxWaitMs: 0 } });
    const { runs } = await countingRuns(() =>
      Promise.all(golden.cases.slice(0, 16).map((c) => scoreModel({ modelId: MODEL, features: asRecord(c.features) }))),
    );
    expect(runs).toBe(16);
  });

  test('warns when an input is outside the training range, naming the feature and range only', async () => {
    const { scoreModel } = createCdsActivities({ registry });
    const s = await scoreModel({ modelId: MODEL, features: { ...asRecord(golden.cases[0]!.features), bmi: 55.5 } });
    expect(s.warnings).toEqual(['bmi outside the training range 18–42.2']);
    expect(s.warnings.join()).not.toContain('55.5');
  });
});

describe('the inference worker refuses bad inputs, non-retryably and by feature name', () => {
  const features = () => asRecord(golden.cases[0]!.features);
  async function refusal(input: { modelId: string; features: Record<string, unknown> }): Promise<ApplicationFailure> {
    const { scoreModel } = createCdsActivities({ registry });
    const err = await scoreModel(input as { modelId: string; features: Record<string, number> }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    return err as ApplicationFailure;
  }

  test('a missing feature', async () => {
    const { glu: _dropped, ...rest } = features();
    const err = await refusal({ modelId: MODEL, features: rest });
    expect(err.type).toBe('InvalidFeatures');
    expect(err.message).toBe('Missing feature(s) for diabetes-progression: glu.');
    expect(err.details).toEqual([{ problem: 'missing', features: ['glu'] }]);
  });

  test.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['null (how NaN crosses JSON)', null],
    ['a string', '5.1'],
  ])('a feature that is %s', async (_label, value) => {
    const err = await refusal({ modelId: MODEL, features: { ...features(), ltg: value } });
    expect(err.type).toBe('InvalidFeatures');
    expect(err.message).toBe('Feature(s) not a finite number for diabetes-progression: ltg.');
  });

  test('an unknown feature', async () => {
    const err = await refusal({ modelId: MODEL, features: { ...features(), hba1c: 6.1 } });
    expect(err.type).toBe('InvalidFeatures');
    expect(err.message).toBe('Unknown feature(s) for diabetes-progression: hba1c.');
    expect(err.message).not.toContain('6.1');
  });

  test('an unknown model', async () => {
    const err = await refusal({ modelId: 'no-such-model', features: features() });
    expect(err.type).toBe('ModelNotFound');
  });
});

describe('the model registry', () => {
  test('refuses metadata that does not validate, naming the problem', async () => {
    const meta = JSON.parse(readFileSync(path.join(MODELS_DIR, 'diabetes-progression.json'), 'utf8'));
    expect(() => parseModelMeta({ ...meta, explanation: { ...meta.explanation, coefficients: [1, 2] } }, 'x.json')).toThrow(
      /x\.json is not valid: explanation: linear-contributions needs one coefficient per feature/,
    );
    expect(() =>
      parseModelMeta({
        ...meta,
        bands: [
          { name: 'a', upTo: null },
          { name: 'b', upTo: 5 },
        ],
      }),
    ).toThrow(/only the last band is open-ended/);
    expect(() => parseModelMeta({ ...meta, features: [...meta.features, meta.features[0]], explanation: { method: 'none' } })).toThrow(
      /feature names must be unique/,
    );
  });
});
