/**
 * The CDS Hooks service `diagnosis-suggestions` (listed only when CDS_DIAGNOSIS_SUGGESTIONS=on).
 * Hook `patient-view`: no standard hook context carries free text, so the complaints travel in the
 * request's `extension` under `clinical-engine-complaints` (CDS Hooks 2.0 extensions); no prefetch.
 * Cards: the three codes with Russian titles and bands, or one card saying the model is not sure.
 */
import { COMPLAINTS_EXTENSION, DIAGNOSIS_SERVICE_ID, diagnosisCards } from '../domain/cds/diagnosis';
import type { CdsCard } from '../domain/cds/cards';
import type { Caller } from './auth';
import { cdsRequestDigest } from './cds-digest';
import { createSuggester, diagnosisModelMeta, diagnosisSuggestionsOn } from './diagnosis';
import { ApiError } from './errors';
import type { ApiDeps } from './router';

const SERVICE = {
  hook: 'patient-view',
  id: DIAGNOSIS_SERVICE_ID,
  title: 'Diagnosis suggestions from the complaints (ICD-10, top 3)',
  description:
    `The three most probable three-character ICD-10 codes for the doctor's complaints text in Russian (ONNX model diagnosis-suggestions), ` +
    `with Russian titles and a probability band. A suggestion, not a diagnosis. Send the text in the request's extension "${COMPLAINTS_EXTENSION}".`,
  prefetch: {},
};

/** The service as discovery lists it: only when the deployment turned it on. */
export function diagnosisService(deps: Pick<ApiDeps, 'config'>) {
  return diagnosisSuggestionsOn(deps) ? [{ ...SERVICE, prefetch: {} as Record<string, string> }] : [];
}

interface HookBody {
  hook: string;
  hookInstance: string;
  context: { patientId: string; userId: string };
  extension?: Record<string, unknown>;
}

/** Answers one call: validates the hook and the text, suggests, stores (keyed by the hook instance and a digest), builds the cards. */
export function diagnosisServiceCall(deps: ApiDeps) {
  const suggest = createSuggester(deps);
  return async (body: HookBody, caller: Caller): Promise<CdsCard[]> => {
    if (body.hook !== SERVICE.hook)
      throw new ApiError(400, 'validation_failed', `Service ${SERVICE.id} answers the ${SERVICE.hook} hook, not ${body.hook}.`);
    const text = body.extension?.[COMPLAINTS_EXTENSION];
    if (typeof text !== 'string') {
      throw new ApiError(
        400,
        'validation_failed',
        `Send the complaints text as a string in the request's extension "${COMPLAINTS_EXTENSION}".`,
        [{ path: `extension.${COMPLAINTS_EXTENSION}`, message: 'required string' }],
      );
    }
    const meta = diagnosisModelMeta();
    const requestKey = `diag:${body.hookInstance}:${cdsRequestDigest(deps.config, [body.context.patientId, text])}`;
    const stored = await suggest({ text, source: 'cds-hooks', caller, requestKey, patientRef: body.context.patientId, appointment: null });
    return diagnosisCards(meta, stored.result, stored.id);
  };
}
