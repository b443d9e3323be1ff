/** Inference activities served by the cds worker on its own task queue. */
import type { ModelRegistry } from './cds-models';

export function createCdsActivities(deps: { registry: ModelRegistry }) {
  return {
    /** The models this worker has loaded, with what they take and return. */
    async listModels(): Promise<Array<{ id: string; version: string; features: string[] }>> {
      return deps.registry.list().map((m) => ({ id: m.meta.id, version: m.meta.version, features: m.meta.features.map((f) => f.name) }));
    },
  };
}
