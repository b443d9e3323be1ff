/**
 * CDS Hooks 2.0 service (https://cds-hooks.hl7.org/2.0/): discovery at `GET /cds-services` and one
 * endpoint per service at `POST /cds-services/{id}`. An external EHR calls it with our bearer token
 * (role doctor or admin) and the prefetch from discovery; we never query a FHIR server ourselves.
 * Model scores come from the cds worker's scoring endpoint and are stored here (api/cds-assess.ts),
 * or, when that endpoint is off or unreachable, through cdsAssessmentWorkflow; rule
 * cards (eGFR, flags, duplicate orders) come from the pure rules in workflows/lib and are stored
 * as one assessment per call (model id `cds-rules`), so every card traces back to a row.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRoute, z } from '@hono/zod-openapi';
import { PROJECT_ROOT } from '../platform/config';
import { labTestNames, insertAssessmentOnce, listReferenceRanges } from '../db/cds';
import { ASSESSMENT_EXTENSION, modelCard, notScoredCard, type CdsCard } from '../domain/cds/cards';
import {
  ageOn,
  labValues,
  latestValues,
  loincOf,
  mapModelFeatures,
  patientSex,
  VITALS,
  type FhirObservation,
  type FhirPatient,
} from '../domain/cds/features';
import { parseModelMeta } from '../domain/cds/model-meta';
import {
  egfrCard,
  flagCards,
  latestOf,
  LOINC,
  reviewDraftLabOrders,
  RULES_ID,
  RULES_VERSION,
  type DraftLabOrder,
  type ReferenceRange,
} from '../domain/cds/rules';
import { newRouter, type ApiDeps } from './router';
import { requireRole } from './auth';
import { diagnosisService, diagnosisServiceCall } from './diagnosis-hook';
import { createAssessor } from './cds-assess';
import { cdsRequestDigest } from './cds-digest';
import { ApiError, errorResponse } from './errors';

const DIABETES_MODEL_ID = 'diabetes-progression';
const REFERENCE_RANGES_TTL_MS = 60_000;
/** The demo catalogue's lab tests (db/seed.ts) the services read: model inputs, creatinine, flags. */
const LAB_LOINCS = ['2093-3', '13457-7', '2085-9', '2571-8', '2345-7', '4548-4', '2160-0', '2823-3', '2951-2', '718-7'];
const VITAL_LOINCS = [VITALS.bmi, VITALS.map, VITALS.systolic, VITALS.diastolic];
const search = (codes: string[]) =>
  `Observation?patient={{context.patientId}}&code=${codes.map((c) => `http://loinc.org|${c}`).join(',')}&_sort=-date`;

const SERVICES = [
  {
    hook: 'patient-view',
    id: 'diabetes-progression',
    title: 'Diabetes progression and kidney function',
    description:
      'Predicted one-year diabetes progression (ONNX model diabetes-progression) with its per-feature contributions, eGFR (CKD-EPI 2021) with KDIGO category, and out-of-range lab flags.',
    prefetch: { patient: 'Patient/{{context.patientId}}', labs: search(LAB_LOINCS), vitals: search(VITAL_LOINCS) },
  },
  {
    hook: 'order-sign',
    id: 'lab-order-review',
    title: 'Lab order review',
    description: 'Warns on a draft lab order that repeats a recent result, and shows the last eGFR when creatinine is ordered.',
    prefetch: { patient: 'Patient/{{context.patientId}}', labs: search(LAB_LOINCS) },
  },
] as const;
type ServiceId = (typeof SERVICES)[number]['id'];

const ServiceSchema = z
  .object({
    hook: z.string(),
    id: z.string(),
    title: z.string(),
    description: z.string(),
    prefetch: z.record(z.string(), z.string()),
  })
  .openapi('CdsService');
const DiscoverySchema = z.object({ services: z.array(ServiceSchema) }).openapi('CdsDiscovery');

const CodingSchema = z.looseObject({ system: z.string().optional(), code: z.string().optional(), display: z.string().optional() });
const CodeableSchema = z.looseObject({ coding: z.array(CodingSchema).optional(), text: z.string().optional() });
const PatientSchema = z.looseObject({
  resourceType: z.literal('Patient'),
  id: z.string().optional(),
  gender: z.string().optional(),
  birthDate: z.string().optional(),
});
const ObservationSchema = z.looseObject({
  resourceType: z.literal('Observation'),
  id: z.string().optional(),
  status: z.string().optional(),
  code: CodeableSchema.optional(),
  valueQuantity: z
    .looseObject({ value: z.number().optional(), unit: z.string().optional(), code: z.string().optional(), system: z.string().optional() })
    .optional(),
  effectiveDateTime: z.string().optional(),
  issued: z.string().optional(),
});
const ServiceRequestSchema = z.looseObject({
  resourceType: z.literal('ServiceRequest'),
  id: z.string().optional(),
  code: CodeableSchema.optional(),
});
/** A FHIR Bundle's resources of one type; other types in a searchset (OperationOutcome) are skipped. */
const bundleOf = <T>(resourceType: string, resource: z.ZodType<T>) =>
  z
    .looseObject({
      resourceType: z.literal('Bundle'),
      entry: z.array(z.looseObject({ resource: z.looseObject({ resourceType: z.string() }) })).optional(),
    })
    .transform((b, ctx) =>
      (b.entry ?? []).flatMap((e, i): T[] => {
        if (e.resource.resourceType !== resourceType) return [];
        const parsed = resource.safeParse(e.resource);
        if (parsed.success) return [parsed.data];
        for (const issue of parsed.error.issues)
          ctx.addIssue({ code: 'custom', path: ['entry', i, 'resource', ...issue.path.map(String)], message: issue.message });
        return [];
      }),
    );

// Built once: zod compiles a schema on its first use, which per request would cost more than the parse.
const ObservationBundleSchema = bundleOf('Observation', ObservationSchema);
const ServiceRequestBundleSchema = bundleOf('ServiceRequest', ServiceRequestSchema);

const HookRequestSchema = z
  .strictObject({
    extension: z.record(z.string(), z.unknown()).optional(),
    hook: z.enum(['patient-view', 'order-sign']),
    hookInstance: z.uuid(),
    fhirServer: z.url().optional(),
    fhirAuthorization: z.unknown().optional(),
    context: z.looseObject({
      userId: z.string().min(1).max(200),
      patientId: z.string().min(1).max(200),
      encounterId: z.string().optional(),
      draftOrders: z.unknown().optional(),
    }),
    prefetch: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi('CdsHookRequest');

const CardSchema = z
  .object({
    uuid: z.string(),
    summary: z.string().max(140),
    indicator: z.enum(['info', 'warning', 'critical']),
    detail: z.string().optional(),
    source: z.object({ label: z.string(), url: z.string().optional(), topic: CodingSchema.optional() }),
    suggestions: z.array(z.unknown()).optional(),
    selectionBehavior: z.string().optional(),
    links: z.array(z.unknown()).optional(),
    extension: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi('CdsCard');
const CardsSchema = z.object({ cards: z.array(CardSchema) }).openapi('CdsCards');

/** A stable card uuid from the hook instance, so a repeated call returns the same card ids. */
function cardUuid(hookInstance: string, serviceId: string, index: number): string {
  const h = createHash('sha256').update(`${hookInstance}:${serviceId}:${index}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The patient a reference names (`Patient/<id>`, absolute or versioned), or null when it names something else. */
export function referencedPatient(reference: string): string | null {
  const m = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
  return m ? m[1]! : null;
}

/**
 * The prefetch must be the context patient's: a Patient of another id, or an Observation or draft
 * order whose subject names another patient, is refused before anything is scored or stored
 * (the context decides whose assessment it is, so another patient's data must never be scored for it).
 */
export function otherPatientsInPrefetch(contextPatientId: string, patient: { id?: string }, resources: readonly unknown[]): string[] {
  const wrong: string[] = [];
  if (patient.id !== undefined && patient.id !== contextPatientId) wrong.push('prefetch.patient');
  resources.forEach((r, i) => {
    const subject = (r as { subject?: { reference?: unknown } }).subject;
    if (subject === undefined) return;
    const ref = subject?.reference;
    if (typeof ref !== 'string' || referencedPatient(ref) !== contextPatientId) wrong.push(`resource ${i}`);
  });
  return wrong;
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => ({ path: [where, ...i.path].join('.'), message: i.message }));
  throw new ApiError(400, 'validation_failed', 'The request is not valid: see details.', details);
}

export function cdsHooksRouter(deps: ApiDeps) {
  const diabetesModel = parseModelMeta(
    JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'models', `${DIABETES_MODEL_ID}.json`), 'utf8')),
    `models/${DIABETES_MODEL_ID}.json`,
  );
  const auth = requireRole(deps.config, 'doctor', 'admin');

  const discoveryRoute = createRoute({
    method: 'get',
    path: '/',
    summary: 'CDS Hooks discovery: the services, their hooks and prefetch templates',
    security: [{ bearer: [] }],
    middleware: [auth] as const,
    responses: {
      200: { description: 'The services', content: { 'application/json': { schema: DiscoverySchema } } },
      401: errorResponse('No or invalid token'),
      403: errorResponse('Role not allowed'),
    },
  });

  const callRoute = createRoute({
    method: 'post',
    path: '/{id}',
    summary: 'Calls a CDS service for a hook (patient-view or order-sign) and returns CDS Hooks cards',
    security: [{ bearer: [] }],
    middleware: [auth] as const,
    request: {
      params: z.object({ id: z.string().max(100) }),
      body: { content: { 'application/json': { schema: HookRequestSchema } }, required: true },
    },
    responses: {
      200: { description: 'Cards (possibly none)', content: { 'application/json': { schema: CardsSchema } } },
      400: errorResponse('The request is not valid, or wrong_patient: the prefetch names another patient than the context'),
      401: errorResponse('No or invalid token'),
      403: errorResponse('Role not allowed'),
      404: errorResponse('No such service'),
      412: errorResponse('A required prefetch item is missing (this service does not query a FHIR server)'),
      422: errorResponse(
        'The model refused the inputs (invalid_features); diagnosis-suggestions: text_too_short / text_too_long / text_not_russian',
      ),
      503: errorResponse('The model this service needs is not loaded'),
      504: errorResponse('The assessment did not complete in time'),
    },
  });

  const assessor = createAssessor(deps);
  const diagnosisCall = diagnosisServiceCall(deps);
  // The catalogue's reference ranges, read once a minute rather than on every hook call: a range
  // edited in the catalogue shows in CDS Hooks cards within REFERENCE_RANGES_TTL_MS.
  let ranges: { at: number; value: Promise<ReferenceRange[]> } | undefined;
  const referenceRanges = () => {
    if (!ranges || Date.now() - ranges.at > REFERENCE_RANGES_TTL_MS) {
      const value = listReferenceRanges(deps.db);
      ranges = { at: Date.now(), value };
      value.catch(() => {
        if (ranges?.value === value) ranges = undefined;
      });
    }
    return ranges.value;
  };
  const keyedDigest = (value: unknown) => cdsRequestDigest(deps.config, value);

  /**
   * Stores what the rules layer said (its id and version, the inputs it read, its cards) as one
   * assessment per call, and marks each rule card with it, as model cards are. The same call
   * again finds the same row.
   */
  async function traceRuleCards(
    serviceId: ServiceId,
    hookInstance: string,
    patientRef: string,
    inputs: unknown,
    ruleCards: CdsCard[],
  ): Promise<void> {
    if (!ruleCards.length) return;
    const requestKey = `rules:${hookInstance}:${serviceId}:${keyedDigest([patientRef, inputs])}`;
    const row = await insertAssessmentOnce(deps.db, {
      request_key: requestKey,
      service_id: serviceId,
      patient_ref: patientRef,
      lab_order_id: null,
      model_id: RULES_ID,
      model_version: RULES_VERSION,
      inputs: JSON.stringify(inputs),
      output: JSON.stringify({ cards: ruleCards }),
      score: null,
      band: null,
    });
    const trace = { id: row.id, modelId: RULES_ID, modelVersion: RULES_VERSION, createdAt: row.created_at.toISOString() };
    for (const ruleCard of ruleCards) ruleCard.extension = { ...ruleCard.extension, [ASSESSMENT_EXTENSION]: trace };
  }

  return newRouter()
    .openapi(discoveryRoute, (c) =>
      c.json({ services: [...SERVICES.map((s) => ({ ...s, prefetch: { ...s.prefetch } })), ...diagnosisService(deps)] }, 200),
    )
    .openapi(callRoute, async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      if (diagnosisService(deps).some((s) => s.id === id)) {
        const diagnosisCards = await diagnosisCall(body, c.get('caller'));
        return c.json({ cards: diagnosisCards.map((card, i) => ({ uuid: cardUuid(body.hookInstance, id, i), ...card })) }, 200);
      }
      const service = SERVICES.find((s) => s.id === id);
      if (!service) throw new ApiError(404, 'not_found', `No CDS service ${id.slice(0, 100)}; GET /cds-services lists them.`);
      if (body.hook !== service.hook)
        throw new ApiError(400, 'validation_failed', `Service ${service.id} answers the ${service.hook} hook, not ${body.hook}.`);
      // Absent is missing (412); null is the EHR saying "no data" (CDS Hooks 2.0), read as empty.
      const missing = Object.keys(service.prefetch).filter((k) => body.prefetch?.[k] === undefined);
      if (missing.length) {
        throw new ApiError(
          412,
          'prefetch_missing',
          `Required prefetch missing: ${missing.join(', ')}. This service does not query a FHIR server: send every prefetch item listed by GET /cds-services.`,
          { missing },
        );
      }
      const patient = (
        body.prefetch!.patient === null
          ? { resourceType: 'Patient' }
          : parseOrThrow(PatientSchema, body.prefetch!.patient, 'prefetch.patient')
      ) as FhirPatient;
      const observations = Object.keys(service.prefetch)
        .filter((k) => k !== 'patient')
        .flatMap((k) =>
          body.prefetch![k] === null
            ? []
            : (parseOrThrow(ObservationBundleSchema, body.prefetch![k], `prefetch.${k}`) as FhirObservation[]),
        );
      const drafts =
        service.id === 'lab-order-review' ? parseOrThrow(ServiceRequestBundleSchema, body.context.draftOrders, 'context.draftOrders') : [];
      const wrong = otherPatientsInPrefetch(body.context.patientId, patient, [...observations, ...drafts]);
      if (wrong.length) {
        throw new ApiError(
          400,
          'wrong_patient',
          'The prefetch (or a draft order) names another patient than context.patientId; nothing was scored or stored.',
          { items: wrong.length },
        );
      }
      const labs = labValues(observations);
      const now = new Date().toISOString();
      const ageYears = ageOn(patient.birthDate, now);
      const sex = patientSex(patient);
      const cards: CdsCard[] = [];

      if (service.id === 'diabetes-progression') {
        const mapping = mapModelFeatures(diabetesModel, { patient, labs, evaluationDate: now.slice(0, 10) });
        if (mapping.missing.length) {
          cards.push(notScoredCard(DIABETES_MODEL_ID, mapping.missing));
        } else {
          const assessment = await assessor.assess({
            serviceId: service.id,
            hookInstance: body.hookInstance,
            patientRef: body.context.patientId,
            modelId: DIABETES_MODEL_ID,
            features: mapping.features,
            provenance: { sources: mapping.sources, notes: mapping.notes, evaluatedAt: now },
          });
          cards.push(modelCard(diabetesModel, assessment, mapping.notes));
        }
        // Only after the model answered: a refused call (422) stores nothing.
        const creatinine = latestOf(labs, LOINC.creatinine);
        const ruleCards = [
          ...(creatinine ? [egfrCard({ creatinine, ageYears, sex })] : []),
          ...flagCards(latestValues(labs), await referenceRanges(), sex),
        ];
        await traceRuleCards(service.id, body.hookInstance, body.context.patientId, { ageYears, sex, labs: latestValues(labs) }, ruleCards);
        cards.push(...ruleCards);
      } else {
        const draftLabs: DraftLabOrder[] = drafts.flatMap((d) => {
          const loinc = loincOf(d.code);
          return loinc
            ? [{ id: d.id ?? null, loinc, display: d.code?.coding?.find((x) => x.code === loinc)?.display ?? d.code?.text ?? null }]
            : [];
        });
        const ruleCards = reviewDraftLabOrders({ drafts: draftLabs, labs, now, ageYears, sex, testNames: await labTestNames(deps.db) });
        await traceRuleCards(
          service.id,
          body.hookInstance,
          body.context.patientId,
          { ageYears, sex, drafts: draftLabs, labs: latestValues(labs) },
          ruleCards,
        );
        cards.push(...ruleCards);
      }
      return c.json({ cards: cards.map((card, i) => ({ uuid: cardUuid(body.hookInstance, service.id, i), ...card })) }, 200);
    });
}
