/**
 * The model registry: every `models/<id>.json` names an ONNX file, its input schema and what
 * its output means. The cds worker loads them all once at start; a metadata file that does not
 * validate, or an ONNX graph whose input/output names disagree with it, stops the worker.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseModelMeta, type ModelFeature, type ModelMeta } from '../domain/cds/model-meta';

export type { ModelFeature, ModelMeta };

export interface LoadedModel {
  meta: ModelMeta;
  session: ort.InferenceSession;
}

export interface ModelRegistry {
  list(): LoadedModel[];
  get(id: string): LoadedModel | undefined;
}

/** Reads and validates every model's metadata in dir (files `*.json` that name an `.onnx` file). */
export function readModelMetas(dir: string): ModelMeta[] {
  const metas: ModelMeta[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const json = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { id?: unknown; file?: unknown; task?: unknown };
    if (typeof json.file !== 'string' || !json.file.endsWith('.onnx')) continue;
    // Text classifiers (diagnosis-suggestions) take a string, not features: activities/diagnosis.ts loads them.
    if (json.task === 'text-classification') continue;
    metas.push(parseModelMeta(json, `models/${file}`));
  }
  return metas;
}

/** Loads every model described in dir, one ONNX session each. */
export async function loadModelRegistry(dir: string, opts: { intraOpThreads?: number } = {}): Promise<ModelRegistry> {
  const models = new Map<string, LoadedModel>();
  for (const meta of readModelMetas(dir)) {
    if (models.has(meta.id)) throw new Error(`model id ${meta.id} is registered twice`);
    const session = await ort.InferenceSession.create(path.join(dir, meta.file), {
      intraOpNumThreads: opts.intraOpThreads ?? 1,
      executionProviders: ['cpu'],
    });
    if (!session.inputNames.includes(meta.inputName) || !session.outputNames.includes(meta.outputName)) {
      throw new Error(
        `model ${meta.id}: the ONNX graph's input/output names (${session.inputNames}/${session.outputNames}) do not match its metadata`,
      );
    }
    models.set(meta.id, { meta, session });
  }
  return { list: () => [...models.values()], get: (id) => models.get(id) };
}
