/**
 * The one error shape every HTTP answer of ours uses, `{ error: { code, message, details? } }`:
 * the API (api/errors.ts) and the workers' /metrics.
 */
export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}
