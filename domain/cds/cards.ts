/**
 * CDS Hooks 2.0 card shapes (https://cds-hooks.hl7.org/2.0/#card-attributes) and small builders.
 * Pure: the uuid is stamped by the API from the hook instance, so a repeated call returns the same
 * card ids and no randomness is needed here.
 */
export type CardIndicator = 'info' | 'warning' | 'critical';

export interface Coding {
  system?: string;
  code: string;
  display?: string;
}

export interface CardSource {
  label: string;
  url?: string;
  topic?: Coding;
}

export interface CardLink {
  label: string;
  url: string;
  type: 'absolute' | 'smart';
}

export interface CardAction {
  type: 'create' | 'update' | 'delete';
  description: string;
  /** For `delete`: the ids of the draft resources to remove, e.g. `ServiceRequest/abc`. */
  /** A relative reference, e.g. 'ServiceRequest/123' (CDS Hooks 2.0: a string). */
  resourceId?: string;
}

export interface CardSuggestion {
  label: string;
  uuid?: string;
  isRecommended?: boolean;
  actions?: CardAction[];
}

export interface CdsCard {
  uuid?: string;
  /** Under 140 characters (CDS Hooks). */
  summary: string;
  indicator: CardIndicator;
  /** GitHub-flavoured markdown. */
  detail?: string;
  source: CardSource;
  suggestions?: CardSuggestion[];
  selectionBehavior?: 'at-most-one' | 'any';
  links?: CardLink[];
  /** CDS Hooks extension point: we put the stored assessment's id here so a card can be traced. */
  extension?: Record<string, unknown>;
}

export const CARD_SOURCE_LABEL = 'Clinical process engine CDS';
export const SUMMARY_MAX = 139;

/** A card with our source label; the summary is cut to fit the CDS Hooks limit. */
export function card(c: Omit<CdsCard, 'source'> & { topic?: Coding }): CdsCard {
  const { topic, ...rest } = c;
  const summary = rest.summary.length > SUMMARY_MAX ? `${rest.summary.slice(0, SUMMARY_MAX - 1)}…` : rest.summary;
  return { ...rest, summary, source: topic ? { label: CARD_SOURCE_LABEL, topic } : { label: CARD_SOURCE_LABEL } };
}

/** Rounds for display: at most `digits` decimals, no trailing zeros. */
export function fmt(value: number, digits = 1): string {
  return String(Math.round(value * 10 ** digits) / 10 ** digits);
}

/** A stored assessment, as recordAssessment returns it and the model card needs it. */
export interface AssessmentForCard {
  id: string;
  createdAt: string;
  modelId: string;
  modelVersion: string;
  score: number;
  band: string;
  baseline: number | null;
  contributions: Array<{ feature: string; value: number; contribution: number }>;
  warnings: string[];
}

/** What the model card needs from the model's metadata. */
export interface ModelForCard {
  id: string;
  family: string;
  trainedOn?: string;
  bands: Array<{ name: string; upTo: number | null }>;
  output: { range: [number, number] };
  metrics?: Record<string, { rmse: { mean: number }; r2: { mean: number } }>;
  selection?: { chosen: string };
}

export const ASSESSMENT_EXTENSION = 'clinical-engine-assessment';
const LIPIDS = new Set(['tc', 'ldl', 'hdl', 'tch', 'ltg']);

/**
 * The diabetes-progression card: score, band, the largest contributions, how inputs were derived,
 * and the model card's limits. Its extension carries the stored assessment's id for tracing.
 * High band → warning (consider closer follow-up); otherwise info.
 */
export function modelCard(model: ModelForCard, a: AssessmentForCard, notes: readonly string[]): CdsCard {
  const bands = model.bands
    .map((b, i) => (b.upTo === null ? `${b.name} > ${model.bands[i - 1]?.upTo}` : `${b.name} ≤ ${b.upTo}`))
    .join(', ');
  const top = [...a.contributions].sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution)).slice(0, 4);
  const metrics = model.metrics?.[model.selection?.chosen ?? model.family];
  const lipidNote = top.some((c) => LIPIDS.has(c.feature))
    ? ' The lipid terms (tc, ldl, hdl, tch, ltg) are strongly collinear: read them together, not one at a time.'
    : '';
  const detail = [
    `**Predicted one-year progression score ${fmt(a.score)}**, band **${a.band}** (${bands}; study scale ${model.output.range[0]}–${model.output.range[1]}, no clinical unit).`,
    `Model \`${a.modelId}@${a.modelVersion}\` (${model.family}).` +
      (a.baseline !== null ? ` Score = baseline ${fmt(a.baseline)} at the training means + per-feature contributions.` : ''),
    top.length
      ? `Largest contributions: ${top.map((c) => `${c.feature} ${c.contribution >= 0 ? '+' : ''}${fmt(c.contribution)}`).join(', ')}.${lipidNote}`
      : '',
    ...notes,
    ...(a.warnings.length ? [`Extrapolation: ${a.warnings.join('; ')}.`] : []),
    `**Limits:** decision support only, not a diagnosis; the clinician decides. Fitted on one ${model.trainedOn ?? 'small'} cohort (Efron et al., 2004), without external validation` +
      (metrics
        ? `; cross-validated R² ≈ ${fmt(metrics.r2.mean, 2)}, RMSE ≈ ${fmt(metrics.rmse.mean, 0)}, so band boundaries are easily crossed by noise`
        : '') +
      '. A low band must not be used to deny care. See models/diabetes-progression.card.md.',
    `Assessment \`${a.id}\` stored ${a.createdAt}.`,
  ]
    .filter(Boolean)
    .join('\n\n');
  return card({
    summary: `Diabetes progression: ${a.band} band (predicted 1-year score ${fmt(a.score, 0)})`,
    indicator: a.band === model.bands[model.bands.length - 1]?.name ? 'warning' : 'info',
    topic: { system: 'urn:clinical-engine:model', code: a.modelId, display: `${a.modelId}@${a.modelVersion}` },
    detail,
    extension: { [ASSESSMENT_EXTENSION]: { id: a.id, modelId: a.modelId, modelVersion: a.modelVersion, createdAt: a.createdAt } },
  });
}

/** Why the model was not run (missing inputs), so the clinician knows rather than sees nothing. */
export function notScoredCard(modelId: string, missing: ReadonlyArray<{ feature: string; reason: string }>): CdsCard {
  return card({
    summary: 'Diabetes progression score not calculated: inputs are missing',
    indicator: 'info',
    topic: { system: 'urn:clinical-engine:model', code: modelId },
    detail: `The model \`${modelId}\` needs every input. Missing: ${missing.map((m) => `${m.feature} (${m.reason})`).join('; ')}.`,
  });
}
