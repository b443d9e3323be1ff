/**
 * What a registered model is: id, version, input schema and what its output means, as read from
 * `models/<id>.json`. Pure (no I/O): the inference worker validates each file with it at load,
 * and the API reads the same metadata to map FHIR prefetch onto the model's features.
 */
import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

const ModelFeatureSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/),
  unit: z.string(),
  min: finite,
  max: finite,
  mean: finite,
  loinc: z.string().nullable(),
  source: z.string(),
  description: z.string(),
  /** Multiply an SI value (mmol/L) by this to get the model's unit (mg/dL). */
  fromSI: finite.optional(),
  /** 'ln': the model takes the natural log of the converted value. */
  transform: z.literal('ln').optional(),
});

export const ModelMetaSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    version: z.string().min(1),
    file: z.string().endsWith('.onnx'),
    inputName: z.string().min(1),
    outputName: z.string().min(1),
    family: z.string().min(1),
    features: z.array(ModelFeatureSchema).min(1),
    output: z.object({ name: z.string(), meaning: z.string(), range: z.tuple([finite, finite]) }),
    bands: z.array(z.object({ name: z.string().min(1), upTo: finite.nullable() })).min(1),
    explanation: z.object({
      method: z.string(),
      intercept: finite.optional(),
      baseline: finite.optional(),
      coefficients: z.array(finite).optional(),
      description: z.string().optional(),
    }),
    trainedOn: z.string().optional(),
    /** Cross-validated metrics per family compared, and which family was chosen (see the model card). */
    metrics: z.record(z.string(), z.looseObject({ rmse: z.looseObject({ mean: finite }), r2: z.looseObject({ mean: finite }) })).optional(),
    selection: z.looseObject({ chosen: z.string() }).optional(),
  })
  .superRefine((m, ctx) => {
    const names = m.features.map((f) => f.name);
    if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['features'], message: 'feature names must be unique' });
    for (const [i, f] of m.features.entries()) {
      if (!(f.min <= f.mean && f.mean <= f.max))
        ctx.addIssue({ code: 'custom', path: ['features', i], message: 'needs min <= mean <= max' });
    }
    const uppers = m.bands.map((b) => b.upTo);
    if (uppers[uppers.length - 1] !== null || uppers.slice(0, -1).some((u) => u === null)) {
      ctx.addIssue({ code: 'custom', path: ['bands'], message: 'only the last band is open-ended (upTo null)' });
    }
    for (let i = 1; i < uppers.length - 1; i++) {
      if ((uppers[i] as number) <= (uppers[i - 1] as number))
        ctx.addIssue({ code: 'custom', path: ['bands', i], message: 'band limits must increase' });
    }
    if (m.explanation.method === 'linear-contributions') {
      if (m.explanation.coefficients?.length !== m.features.length || m.explanation.baseline === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['explanation'],
          message: 'linear-contributions needs one coefficient per feature and a baseline',
        });
      }
    }
  });

export type ModelMeta = z.infer<typeof ModelMetaSchema>;
export type ModelFeature = ModelMeta['features'][number];

/** Parses and checks one metadata file's JSON; throws naming the file's problems. */
export function parseModelMeta(json: unknown, source = 'model metadata'): ModelMeta {
  const parsed = ModelMetaSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${source} is not valid: ${problems}`);
  }
  return parsed.data;
}

/** The band a score falls in: the first whose upper limit (inclusive) is at or above it. */
export function bandFor(meta: Pick<ModelMeta, 'bands'>, score: number): string {
  return (meta.bands.find((b) => b.upTo === null || score <= b.upTo) ?? meta.bands[meta.bands.length - 1]!).name;
}
