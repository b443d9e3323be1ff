/**
 * Parity of the diagnosis-suggestions model: Node's onnxruntime (the cds worker's path) against
 * scikit-learn's probabilities on 200 dev texts (models/golden/diagnosis-suggestions-parity.json),
 * and the whole dev split, normalised here in TypeScript, against the top 3 Python recorded.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { normalizeComplaints } from '../domain/cds/diagnosis';
import { PROJECT_ROOT } from '../platform/config';
import { createDiagnosisActivities, loadDiagnosisModel, TextBatcher, type DiagnosisModel } from './diagnosis';

const MODELS = path.join(PROJECT_ROOT, 'models');
const read = <T>(...p: string[]) => JSON.parse(readFileSync(path.join(MODELS, ...p), 'utf8')) as T;
const parity = read<{ labels: string[]; cases: Array<{ text: string; sklearn: number[] }> }>('golden', 'diagnosis-suggestions-parity.json');
const top3 = read<{ cases: Array<{ idx: string; top3: string[] }> }>('golden', 'diagnosis-suggestions-top3.json');
const dev = readFileSync(path.join(MODELS, 'data', 'rumedtop3', 'dev_v1.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { idx: string; symptoms: string; code: string });

let model: DiagnosisModel;
beforeAll(async () => {
  model = await loadDiagnosisModel(MODELS);
});

test("Node onnxruntime gives scikit-learn's probabilities on 200 dev texts (|Δ| ≤ 1e-5), in the same label order", async () => {
  expect(model.meta.labels.map((l) => l.code)).toEqual(parity.labels);
  expect(parity.cases).toHaveLength(200);
  const batcher = new TextBatcher(model, { maxBatchSize: 32, maxWaitMs: 1 });
  const node = await Promise.all(parity.cases.map((c) => batcher.probabilities(c.text)));
  let worst = 0;
  parity.cases.forEach((c, i) =>
    c.sklearn.forEach((p, j) => {
      worst = Math.max(worst, Math.abs(p - node[i]![j]!));
    }),
  );
  expect(worst).toBeLessThanOrEqual(1e-5);
  // The same probabilities whether a text runs alone or in a batch.
  const alone = await new TextBatcher(model, { maxBatchSize: 1, maxWaitMs: 0 }).probabilities(parity.cases[7]!.text);
  alone.forEach((p, j) => expect(Math.abs(p - node[7]![j]!)).toBeLessThanOrEqual(1e-6));
});

test('the whole dev split, normalised in TypeScript, gets the top 3 Python recorded (same data and seed, same suggestions)', async () => {
  expect(dev).toHaveLength(top3.cases.length);
  const { suggestDiagnoses } = createDiagnosisActivities({ model, batch: { maxBatchSize: 32, maxWaitMs: 1 } });
  const results = await Promise.all(dev.map((r) => suggestDiagnoses({ text: r.symptoms })));
  const differ = results
    .map((r, i) => ({ idx: dev[i]!.idx, node: r.suggestions.map((s) => s.code), python: top3.cases[i]!.top3 }))
    .filter((x, i) => x.idx !== top3.cases[i]!.idx || x.node.join() !== x.python.join());
  expect(differ).toEqual([]);
  // Normalising twice changes nothing, so the golden texts (already normalised) are what the worker feeds.
  for (const c of parity.cases) expect(normalizeComplaints(c.text)).toBe(c.text);
});

test('refuses a text the model cannot read, naming the problem but not the text', async () => {
  const { suggestDiagnoses } = createDiagnosisActivities({ model });
  await expect(suggestDiagnoses({ text: 'sore throat, fever' })).rejects.toMatchObject({
    type: 'InvalidInput',
    details: [{ code: 'text_not_russian' }],
  });
  await expect(suggestDiagnoses({ text: 'sore throat, fever' })).rejects.not.toThrow(/sore/);
});
