/**
 * Diagnosis suggestions for the screens: `POST /diagnosis-suggestions` (doctors and admins) takes the
 * complaints text, asks the cds worker's scoring endpoint for the three most probable ICD-10 codes
 * and stores the answer (never logs the text). The CDS Hooks service `diagnosis-suggestions`
 * (api/cds-hooks.ts) goes through the same suggester. Off unless CDS_DIAGNOSIS_SUGGESTIONS=on.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRoute, z } from '@hono/zod-openapi';
import { insertSuggestion } from '../db/diagnosis';
import {
  complaintsProblem,
  DIAGNOSIS_MODEL_ID,
  parseDiagnosisModelMeta,
  type DiagnosisModelMeta,
  type SuggestionResult,
} from '../domain/cds/diagnosis';
import { PROJECT_ROOT } from '../platform/config';
import { canActOnAppointment } from './access';
import type { Caller } from './auth';
import { requireRole } from './auth';
import { createInferenceClient } from './cds-inference';
import { ApiError, errorResponse } from './errors';
import { newRouter, type ApiDeps, type AppEnv } from './router';
import type { Context } from 'hono';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Appointment states in which the doctor writes complaints: booked (preparing) or arrived (the visit). */
const SUGGESTIBLE_STATES = ['booked', 'arrived'];

export interface SuggestRequest {
  text: string;
  source: 'api' | 'cds-hooks';
  caller: Caller;
  requestKey: string | null;
  patientRef: string | null;
  appointment: { id: string; clinic_id: string; practitioner_id: string; patient_id: string } | null;
}

export interface StoredSuggestion {
  id: string;
  createdAt: Date;
  result: SuggestionResult;
}

/** The model's metadata for titles and cards, read once from models/diagnosis-suggestions.json. */
let metaOnce: DiagnosisModelMeta | undefined;
export function diagnosisModelMeta(): DiagnosisModelMeta {
  metaOnce ??= parseDiagnosisModelMeta(
    JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'models', `${DIAGNOSIS_MODEL_ID}.json`), 'utf8')),
    `models/${DIAGNOSIS_MODEL_ID}.json`,
  );
  return metaOnce;
}

export const diagnosisSuggestionsOn = (deps: Pick<ApiDeps, 'config'>) => deps.config.CDS_DIAGNOSIS_SUGGESTIONS === 'on';

/** Checks the text, asks the cds worker, stores the answer; a refusal writes nothing. */
export function createSuggester(deps: ApiDeps) {
  const inference = createInferenceClient(deps.config, deps.logger);
  return async function suggest(req: SuggestRequest): Promise<StoredSuggestion> {
    if (!diagnosisSuggestionsOn(deps))
      throw new ApiError(404, 'feature_off', 'Diagnosis suggestions are off in this deployment (CDS_DIAGNOSIS_SUGGESTIONS).');
    const problem = complaintsProblem(req.text);
    if (problem) throw new ApiError(422, problem.code, problem.message);
    const answer = await inference?.suggestDiagnoses(req.text);
    if (!answer) throw new ApiError(503, 'unavailable', 'The suggestion model is not reachable right now; try again shortly.');
    if (!answer.ok) {
      if (answer.type === 'ModelNotFound')
        throw new ApiError(503, 'unavailable', 'The inference worker has not loaded the suggestion model.');
      const code = (answer.details as { code?: string } | undefined)?.code;
      throw new ApiError(422, code === 'text_too_long' || code === 'text_not_russian' ? code : 'text_too_short', answer.message);
    }
    const r = answer.result;
    const a = req.appointment;
    const row = await insertSuggestion(deps.db, {
      requestKey: req.requestKey,
      source: req.source,
      requestedBy: req.caller.id,
      practitionerId:
        a?.practitioner_id ?? (req.caller.practitionerId && UUID.test(req.caller.practitionerId) ? req.caller.practitionerId : null),
      clinicId: a?.clinic_id ?? (req.caller.clinicId && UUID.test(req.caller.clinicId) ? req.caller.clinicId : null),
      appointmentId: a?.id ?? null,
      patientRef: a?.patient_id ?? req.patientRef,
      text: req.text,
      modelId: r.modelId,
      modelVersion: r.modelVersion,
      codes: r.suggestions.map((s) => s.code),
      probabilities: r.suggestions.map((s) => s.probability),
      topProbability: r.topProbability,
      lowConfidence: r.lowConfidence,
    });
    return { id: row.id, createdAt: row.createdAt, result: r };
  };
}

const SuggestionSchema = z
  .object({
    code: z.string().openapi({ example: 'J06' }),
    title: z.string(),
    probability: z.number(),
    band: z.string().openapi({ example: 'moderate' }),
  })
  .openapi('DiagnosisSuggestion');
const SuggestionsSchema = z
  .object({
    suggestionId: z.string().uuid(),
    modelId: z.string(),
    modelVersion: z.string(),
    text: z.string().openapi({ description: 'The text as received and stored: plain text, never markup' }),
    suggestions: z.array(SuggestionSchema).openapi({ description: 'The three most probable codes; empty when lowConfidence' }),
    lowConfidence: z.boolean(),
    topProbability: z.number(),
    notice: z.string(),
  })
  .openapi('DiagnosisSuggestions');
const RequestSchema = z.strictObject({
  text: z.string().openapi({ description: 'The complaints in Russian, 10 to 5,000 characters' }),
  appointmentId: z
    .string()
    .uuid()
    .optional()
    .openapi({ description: 'The visit the doctor is writing; monitoring compares its final diagnosis' }),
});

const SUGGESTION_NOTICE = 'Подсказка, а не диагноз: диагноз ставит врач. See models/diagnosis-suggestions.card.md.';

async function appointmentFor(c: Context<AppEnv>, deps: ApiDeps, id: string) {
  const row = await deps.db.selectFrom('appointments').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new ApiError(404, 'appointment_not_found', `Appointment ${id} does not exist.`);
  await canActOnAppointment(c, deps.db, row, 'write');
  if (!SUGGESTIBLE_STATES.includes(row.status))
    throw new ApiError(409, 'invalid_state', `Suggestions are for a booked or ongoing visit; this one is ${row.status}.`);
  return row;
}

export interface ComplaintsInput {
  text: string;
  appointmentId?: string;
}

/**
 * Suggestions for a doctor's complaints text, optionally on one of their visits: the command behind
 * `POST /diagnosis-suggestions` and the visit page (web/pages/doctor.tsx). Access and text checks are here, once.
 */
export function complaintsSuggester(deps: ApiDeps) {
  const suggest = createSuggester(deps);
  return async function suggestFromComplaints(c: Context<AppEnv>, { text, appointmentId }: ComplaintsInput): Promise<StoredSuggestion> {
    if (!diagnosisSuggestionsOn(deps))
      throw new ApiError(404, 'feature_off', 'Diagnosis suggestions are off in this deployment (CDS_DIAGNOSIS_SUGGESTIONS).');
    const caller = c.get('caller');
    if (caller.role !== 'doctor' && caller.role !== 'admin')
      throw new ApiError(403, 'forbidden', 'Diagnosis suggestions are for doctors and admins.');
    // Cheap refusals before any read: nothing is looked up or written for a text the model cannot read.
    const problem = complaintsProblem(text);
    if (problem) throw new ApiError(422, problem.code, problem.message);
    const appointment = appointmentId ? await appointmentFor(c, deps, appointmentId) : null;
    return suggest({ text, source: 'api', caller, requestKey: null, patientRef: null, appointment });
  };
}

export function diagnosisRouter(deps: ApiDeps) {
  const suggestFromComplaints = complaintsSuggester(deps);
  const route = createRoute({
    method: 'post',
    path: '/diagnosis-suggestions',
    summary: 'Three ICD-10 codes the complaints text suggests, with their Russian titles and probability bands (doctors, admins)',
    description:
      'A suggestion, not a diagnosis. Off unless CDS_DIAGNOSIS_SUGGESTIONS=on (404 feature_off). Nothing is stored on a refusal.',
    security: [{ bearer: [] }],
    middleware: [requireRole(deps.config, 'doctor', 'admin')] as const,
    request: { body: { content: { 'application/json': { schema: RequestSchema } }, required: true } },
    responses: {
      200: { description: 'The suggestions, stored', content: { 'application/json': { schema: SuggestionsSchema } } },
      400: errorResponse('Malformed request'),
      401: errorResponse('No or invalid token'),
      403: errorResponse("Not a doctor or admin, or another doctor's visit"),
      404: errorResponse('feature_off / appointment_not_found'),
      409: errorResponse('invalid_state: the visit is not booked or ongoing'),
      422: errorResponse('text_too_short / text_too_long / text_not_russian'),
      503: errorResponse('unavailable: the inference worker is not reachable'),
    },
  });
  return newRouter().openapi(route, async (c) => {
    const { text, appointmentId } = c.req.valid('json');
    const stored = await suggestFromComplaints(c, { text, appointmentId });
    const r = stored.result;
    return c.json(
      {
        suggestionId: stored.id,
        modelId: r.modelId,
        modelVersion: r.modelVersion,
        text,
        suggestions: r.lowConfidence ? [] : r.suggestions,
        lowConfidence: r.lowConfidence,
        topProbability: Math.round(r.topProbability * 1e4) / 1e4,
        notice: SUGGESTION_NOTICE,
      },
      200,
    );
  });
}
