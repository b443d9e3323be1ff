/**
 * Diagnosis suggestions from the doctor's complaints text (model diagnosis-suggestions): the text's
 * normalisation (the very steps models/train_diagnosis.py applies), what text is refused, how the
 * model's probabilities become at most three suggestions with a band, the CDS Hooks cards, and
 * whether the doctor's final code was among them. Pure: no I/O, no clock.
 */
import { z } from 'zod';
import { card, type CdsCard } from './cards';

export const DIAGNOSIS_MODEL_ID = 'diagnosis-suggestions';
export const DIAGNOSIS_SERVICE_ID = 'diagnosis-suggestions';
/** Where the text travels in a CDS Hooks request (a request extension: no standard hook context carries free text). */
export const COMPLAINTS_EXTENSION = 'clinical-engine-complaints';
export const MODEL_CARD_PATH = 'models/diagnosis-suggestions.card.md';

export const MIN_COMPLAINT_CHARS = 10;
export const MAX_COMPLAINT_CHARS = 5000;
const MIN_CYRILLIC_LETTERS = 3;

// The same characters as WHITESPACE in models/train_diagnosis.py, written out because `\s` differs
// between JavaScript and Python.
const WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+/g;

/** What the model reads: NFC, lower case, whitespace runs as one space, no space at either end. */
export function normalizeComplaints(text: string): string {
  return text
    .normalize('NFC')
    .toLowerCase()
    .replace(WHITESPACE, ' ')
    .replace(/^ +| +$/g, '');
}

export type ComplaintsProblem = { code: 'text_too_short' | 'text_too_long' | 'text_not_russian'; message: string };

/** Why a complaints text cannot be scored, or null when it can. Lengths count the normalised text. */
export function complaintsProblem(text: string): ComplaintsProblem | null {
  if (text.length > MAX_COMPLAINT_CHARS) {
    return { code: 'text_too_long', message: `The complaints text is over ${MAX_COMPLAINT_CHARS} characters; send the complaints only.` };
  }
  const normalized = normalizeComplaints(text);
  if (normalized.length < MIN_COMPLAINT_CHARS) {
    return { code: 'text_too_short', message: `The complaints text needs at least ${MIN_COMPLAINT_CHARS} characters to suggest anything.` };
  }
  if ((normalized.match(/[а-яё]/g) ?? []).length < MIN_CYRILLIC_LETTERS) {
    return { code: 'text_not_russian', message: 'The model reads complaints written in Russian; this text has no Cyrillic words.' };
  }
  return null;
}

const probability = z.number().min(0).max(1);

export const DiagnosisModelMetaSchema = z
  .object({
    id: z.literal(DIAGNOSIS_MODEL_ID),
    version: z.string().min(1),
    task: z.literal('text-classification'),
    file: z.string().endsWith('.onnx'),
    inputName: z.string().min(1),
    outputName: z.string().min(1),
    labels: z.array(z.object({ code: z.string().regex(/^[A-Z]\d\d$/), title: z.string().min(1) })).min(3),
    /** Highest first; a probability is in the first band whose `from` it reaches. */
    bands: z.array(z.object({ name: z.string().min(1), from: probability })).min(1),
    lowConfidenceBelow: probability,
    metrics: z
      .object({
        dev: z.object({ n: z.number(), hit1: z.number(), hit3: z.number(), hit1CI95: z.array(z.number()), hit3CI95: z.array(z.number()) }),
      })
      .loose(),
  })
  .loose();
export type DiagnosisModelMeta = z.infer<typeof DiagnosisModelMetaSchema>;

export function parseDiagnosisModelMeta(json: unknown, where: string): DiagnosisModelMeta {
  const parsed = DiagnosisModelMetaSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${where}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const bands = parsed.data.bands;
  if (bands.some((b, i) => i > 0 && b.from >= bands[i - 1]!.from) || bands[bands.length - 1]!.from !== 0) {
    throw new Error(`${where}: bands must fall strictly and end at 0`);
  }
  return parsed.data;
}

export interface Suggestion {
  code: string;
  title: string;
  probability: number;
  band: string;
}

export interface SuggestionResult {
  modelId: string;
  modelVersion: string;
  /** The three most probable codes, always from the model's label set; shown only when not lowConfidence. */
  suggestions: Suggestion[];
  topProbability: number;
  lowConfidence: boolean;
}

export function bandOf(meta: Pick<DiagnosisModelMeta, 'bands'>, p: number): string {
  return (meta.bands.find((b) => p >= b.from) ?? meta.bands[meta.bands.length - 1]!).name;
}

/**
 * The top three of one row of probabilities, in the label order of the model's metadata (the ONNX
 * output's order). Ties keep the label order, as numpy's stable sort does in training.
 */
export function rankSuggestions(meta: DiagnosisModelMeta, probabilities: ArrayLike<number>): SuggestionResult {
  if (probabilities.length !== meta.labels.length)
    throw new Error(`expected ${meta.labels.length} probabilities, got ${probabilities.length}`);
  const order = Array.from({ length: probabilities.length }, (_, i) => i)
    .sort((a, b) => probabilities[b]! - probabilities[a]! || a - b)
    .slice(0, 3);
  const suggestions = order.map((i) => {
    const p = probabilities[i]!;
    return { code: meta.labels[i]!.code, title: meta.labels[i]!.title, probability: Math.round(p * 1e4) / 1e4, band: bandOf(meta, p) };
  });
  const topProbability = probabilities[order[0]!]!;
  return {
    modelId: meta.id,
    modelVersion: meta.version,
    suggestions,
    topProbability,
    lowConfidence: topProbability < meta.lowConfidenceBelow,
  };
}

const BAND_RU: Record<string, string> = { high: 'высокая', moderate: 'средняя', low: 'низкая' };
const percent = (p: number) => `${Math.round(p * 100)} %`;
const MODEL_TOPIC = (r: SuggestionResult) => ({
  system: 'urn:clinical-engine:model',
  code: r.modelId,
  display: `${r.modelId}@${r.modelVersion}`,
});

function limits(meta: DiagnosisModelMeta): string {
  const d = meta.metrics.dev;
  return (
    `**Подсказка, а не диагноз.** Диагноз ставит врач. Модель \`${meta.id}@${meta.version}\` обучена на ${meta.labels.length} кодах ` +
    `МКБ-10 одной университетской клиники (RuMedTop3); на отложенной выборке верный код первым в ${d.hit1.toFixed(1)} % случаев, ` +
    `среди трёх — в ${d.hit3.toFixed(1)} %. Не проверена на данных поликлиник Санкт-Петербурга; не зарегистрирована как медицинское изделие. ` +
    `Подробнее: ${MODEL_CARD_PATH}.`
  );
}

/**
 * The CDS Hooks cards: one info card per suggestion (code, Russian title, band), or, when the top
 * probability is below the model's threshold, one card saying there is no confident suggestion.
 */
export function diagnosisCards(meta: DiagnosisModelMeta, r: SuggestionResult, suggestionId: string): CdsCard[] {
  const extension = { 'clinical-engine-suggestion': { id: suggestionId, modelId: r.modelId, modelVersion: r.modelVersion } };
  const source = (c: CdsCard): CdsCard => ({
    ...c,
    source: { ...c.source, label: `Модель ${r.modelId}@${r.modelVersion} (карточка модели)`, url: MODEL_CARD_PATH },
  });
  if (r.lowConfidence) {
    return [
      source(
        card({
          summary: 'Подсказки по диагнозу нет: модель не уверена ни в одном коде',
          indicator: 'info',
          topic: MODEL_TOPIC(r),
          extension,
          detail: `Наибольшая вероятность ${percent(r.topProbability)} — ниже порога ${percent(meta.lowConfidenceBelow)}; ранжировать такие коды значило бы показывать шум.\n\n${limits(meta)}`,
        }),
      ),
    ];
  }
  return r.suggestions.map((s, i) =>
    source(
      card({
        summary: `${i + 1}. ${s.code} ${s.title} — вероятность ${BAND_RU[s.band] ?? s.band}`,
        indicator: 'info',
        topic: MODEL_TOPIC(r),
        extension,
        detail: `**${s.code} — ${s.title}.** Вероятность по модели ${percent(s.probability)} (полоса «${BAND_RU[s.band] ?? s.band}»).\n\n${limits(meta)}`,
      }),
    ),
  );
}

/** The three-character category of an ICD-10 code (`J06.9` → `J06`). */
export const icd10Category = (code: string) => code.slice(0, 3);

/** Whether the doctor's final code (or its category) was the first, or among the three, suggested codes. */
export function suggestionHit(finalCode: string, suggestedCodes: readonly string[]): { top1: boolean; top3: boolean } {
  const category = icd10Category(finalCode);
  return { top1: suggestedCodes[0] === category, top3: suggestedCodes.slice(0, 3).includes(category) };
}

/** An ICD-10 code as a doctor may write it: a category `A00` or a subcategory `A00.0`/`M54.16` (Latin letter, upper case). */
export const ICD10_CODE = /^[A-Z]\d\d(\.\d{1,2})?$/;
