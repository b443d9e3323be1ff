/**
 * The API's one error shape, `{ error: { code, message, details? } }`, for every 4xx and 5xx.
 * Codes are machine-readable and stable; messages are for people and never hold patient data.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from '@hono/zod-openapi';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { PolicyRefusalCode } from '../domain/admin-policy';
import type { Logger } from '../platform/logger';
import { countBookingConflict } from '../platform/metrics';
import { errorBody } from '../platform/error-body';
import { knownFailure, updateFailure } from './failures';
import { UNAVAILABLE_MESSAGE, unavailableDependency } from './unavailable';

export type ErrorCode =
  | 'validation_failed'
  | 'malformed_json'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'slot_not_found'
  | 'slot_unavailable'
  | 'slot_in_past'
  | 'beyond_booking_horizon'
  | 'slot_taken'
  | 'patient_not_found'
  | 'practitioner_not_found'
  | 'clinic_not_found'
  | 'patient_busy'
  | 'too_many_bookings'
  | 'appointment_not_found'
  | 'invalid_state'
  | 'idempotency_key_reused'
  | 'other_clinic'
  | 'clinic_not_live'
  | 'precondition_failed'
  | 'blocking_incidents_open'
  | 'onboarding_blocked'
  | 'program_not_found'
  | 'referral_not_found'
  | 'invalid_icd10'
  | 'validity_in_past'
  | 'unknown_specialty'
  | 'wrong_practitioner'
  | 'wrong_patient'
  | 'timeout'
  | 'invalid_features'
  | 'prefetch_missing'
  | 'unavailable'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'internal'
  | 'lab_order_not_found'
  | 'unknown_test'
  | 'wrong_unit'
  | 'not_finite'
  | 'impossible_value'
  | 'read_back_mismatch'
  | 'read_back_required'
  | 'no_care_relationship'
  | 'wrong_clinic'
  // Admin policy changes (api/admin): the domain's refusals, then the API's own.
  | PolicyRefusalCode
  | 'unknown_loinc'
  | 'unknown_country'
  | 'scope_ambiguous'
  | 'version_exists'
  | 'closure_exists'
  | 'closure_not_found'
  | 'closure_in_past'
  // Diagnosis suggestions (api/diagnosis).
  | 'feature_off'
  | 'text_too_short'
  | 'text_too_long'
  | 'text_not_russian'
  // Lab messages (api/lab-messages).
  | 'message_not_whole'
  // Messages (api/notify).
  | 'invalid_contact'
  | 'roster_entry_not_found';

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'validation_failed' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

/** OpenAPI response entry for an error status. */
export function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: ErrorSchema } } };
}

export { errorBody } from '../platform/error-body';

/** zod-openapi's defaultHook: request validation failures become 400 validation_failed. */
export function validationHook(result: { success: boolean; error?: z.ZodError }, c: Context) {
  if (!result.success && result.error) {
    // An unknown field (strict schemas) is named in the path, one entry per field.
    const details = result.error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((key) => ({ path: [...i.path, key].join('.'), message: `Unknown field "${key}".` }))
        : [{ path: i.path.join('.'), message: i.message }],
    );
    return c.json(errorBody('validation_failed', 'The request is not valid: see details.', details), 400);
  }
  return undefined;
}

/**
 * What Hono and zod-openapi refuse before a handler runs: malformed JSON (400), a body in a
 * content type the route does not take (415).
 */
const FRAMEWORK_ERRORS: Partial<Record<number, [ErrorCode, string]>> = {
  400: ['malformed_json', 'The request body is not valid JSON.'],
  401: ['unauthenticated', 'A valid bearer token is required.'],
  415: ['unsupported_media_type', 'This route takes a body of content type application/json.'],
};

/**
 * Hono's onError: known errors map to their status, a dependency that is down to 503
 * `unavailable`, everything else to a 500 without internals. Takes anything thrown: Hono passes
 * only `instanceof Error` to onError, so app.ts also calls this for the rest (errors made in
 * another realm, such as Node's socket errors under Jest's sandbox).
 */
export function handleError(logger: Logger) {
  return (thrown: unknown, c: Context) => {
    const err = (thrown !== null && typeof thrown === 'object' ? thrown : new Error(String(thrown))) as Error;
    if (err instanceof ApiError) {
      if (err.status === 409) countBookingConflict(err.code);
      return c.json(errorBody(err.code, err.message, err.details), err.status);
    }
    if (err instanceof HTTPException) {
      const [code, message] = FRAMEWORK_ERRORS[err.status] ?? ['internal', err.message];
      return c.json(errorBody(code, message), err.status);
    }
    const down = unavailableDependency(err);
    if (down) {
      logger.warn(
        { requestId: c.get('requestId'), dependency: down, err: { name: err.name, code: (err as { code?: unknown }).code } },
        'dependency unavailable',
      );
      c.header('Retry-After', '5');
      return c.json(errorBody('unavailable', UNAVAILABLE_MESSAGE[down]), 503);
    }
    logger.error({ requestId: c.get('requestId'), err: { name: err.name, stack: err.stack } }, 'unhandled error');
    return c.json(errorBody('internal', 'Something went wrong on our side; the request id identifies it.'), 500);
  };
}

/** A refusal thrown by an activity function the API ran itself (no process in between); anything else is rethrown. */
export function fromRefusal(err: unknown): never {
  const known = err instanceof ApplicationFailure ? knownFailure(err.type) : undefined;
  if (known && err instanceof ApplicationFailure) throw new ApiError(known[0], known[1], err.message, err.details?.[0]);
  throw err;
}

/**
 * Turns a refused Update (a business failure or a validator's rejection) into an ApiError through
 * the one table (api/failures.ts); anything else is rethrown for onError.
 */
export function fromProcessFailure(err: unknown): never {
  throw processRefusal(err) ?? err;
}

/** The ApiError for a refused Update or a process that is not there; undefined for anything else. */
export function processRefusal(err: unknown, notFound = new ApiError(404, 'not_found', 'No such process.')): ApiError | undefined {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const [status, code] = updateFailure(err.cause.type);
    return new ApiError(status, code, err.cause.message, err.cause.details?.[0]);
  }
  if (err instanceof WorkflowNotFoundError) return notFound;
  return undefined;
}

/**
 * Sends a signal, query or Update to a record's process. A process that has ended means the
 * record can no longer change (409 invalid_state, naming its status); a refusal maps through the one table.
 */
export async function sendToProcess<T>(
  temporal: Client,
  row: { workflow_id: string; status: string },
  what: string,
  send: (handle: WorkflowHandle) => Promise<T>,
): Promise<T> {
  try {
    return await send(temporal.workflow.getHandle(row.workflow_id));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new ApiError(409, 'invalid_state', `The ${what} is ${row.status}; it can no longer change.`);
    return fromProcessFailure(err);
  }
}
