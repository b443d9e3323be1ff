/**
 * The model registry: every `models/<id>.json` names an ONNX file, its input schema and what
 * its output means. The cds worker loads them all once at start.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

export interface ModelFeature {
  name: string;
  unit: string;
  min: number;
  max: number;
  mean: number;
  loinc: string | null;
  source: string;
  description: string;
}

export interface ModelMeta {
  id: string;
  version: string;
  file: string;
  inputName: string;
  outputName: string;
  family: string;
  features: ModelFeature[];
  output: { name: string; meaning: string; range: [number, number] };
  bands: Array<{ name: string; upTo: number | null }>;
  explanation: { method: string; intercept?: number; baseline?: number; coefficients?: number[] };
}

export interface LoadedModel {
  meta: ModelMeta;
  session: ort.InferenceSession;
}

export interface ModelRegistry {
  list(): LoadedModel[];
  get(id: string): LoadedModel | undefined;
}

/** Loads every model described in dir (files `*.json` that name an `.onnx` file). */
export async function loadModelRegistry(dir: string, opts: { intraOpThreads?: number } = {}): Promise<ModelRegistry> {
  const models = new Map<string, LoadedModel>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const meta = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as ModelMeta;
    if (!meta.id || !meta.file?.endsWith('.onnx')) continue;
    const session = await ort.InferenceSession.create(path.join(dir, meta.file), {
      intraOpNumThreads: opts.intraOpThreads ?? 1,
      executionProviders: ['cpu'],
    });
    models.set(meta.id, { meta, session });
  }
  return { list: () => [...models.values()], get: (id) => models.get(id) };
}
