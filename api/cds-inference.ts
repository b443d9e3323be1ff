/**
 * The API's client of the cds worker's scoring endpoint (workers/cds-inference.ts): one
 * keep-alive connection pool, a short timeout, and a pause after the endpoint was unreachable,
 * so a down worker costs each hook call little before it falls back to the workflow path.
 */
import http from 'node:http';
import {
  CDS_INFERENCE_PATH,
  CDS_INFERENCE_SECRET_HEADER,
  SUGGEST_DIAGNOSES_PATH,
  type ModelScore,
  type ScoreModelInput,
} from '../domain/cds/inference';
import type { SuggestionResult } from '../domain/cds/diagnosis';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';

/** The model's answer, or its refusal (the activity's failure types); undefined means "use the workflow path". */
export type InferenceAnswer =
  { ok: true; score: ModelScore } | { ok: false; type: 'InvalidFeatures' | 'ModelNotFound'; message: string; details?: unknown };

/** Diagnosis suggestions, or the worker's refusal; undefined: the endpoint is off, down or overloaded. */
export type SuggestionAnswer =
  { ok: true; result: SuggestionResult } | { ok: false; type: 'InvalidInput' | 'ModelNotFound'; message: string; details?: unknown };

export interface InferenceClient {
  score(input: ScoreModelInput): Promise<InferenceAnswer | undefined>;
  suggestDiagnoses(text: string): Promise<SuggestionAnswer | undefined>;
  close(): void;
}

/** Longer than a 64-row batch under load; well under the workflow path's 5 s activity timeout. */
const TIMEOUT_MS = 2_000;
/** After a failed connection, hook calls go straight to the workflow path for this long. */
const PAUSE_AFTER_FAILURE_MS = 1_000;

/** The client for the configured endpoint, or undefined when the fast path is off (CDS_INFERENCE_PORT 0, no URL). */
export function createInferenceClient(config: Config, logger: Logger): InferenceClient | undefined {
  const base = config.CDS_INFERENCE_URL ?? (config.CDS_INFERENCE_PORT ? `http://127.0.0.1:${config.CDS_INFERENCE_PORT}` : undefined);
  if (!base || !config.CDS_INFERENCE_SECRET) return undefined;
  const url = new URL(CDS_INFERENCE_PATH, base);
  const suggestUrl = new URL(SUGGEST_DIAGNOSES_PATH, base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128, timeout: 30_000 });
  let pausedUntil = 0;

  const unreachable = (why: string) => {
    if (Date.now() >= pausedUntil) logger.warn({ why }, 'cds scoring endpoint unreachable: hook calls use the workflow path for now');
    pausedUntil = Date.now() + PAUSE_AFTER_FAILURE_MS;
    return undefined;
  };

  function post(body: string, to: URL = url): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        to,
        {
          method: 'POST',
          agent,
          timeout: TIMEOUT_MS,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            [CDS_INFERENCE_SECRET_HEADER]: config.CDS_INFERENCE_SECRET,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body);
    });
  }

  return {
    async score(input) {
      if (Date.now() < pausedUntil) return undefined;
      let res: { status: number; text: string };
      try {
        res = await post(JSON.stringify(input));
      } catch (err) {
        return unreachable(err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : 'error');
      }
      if (res.status === 200) return { ok: true, score: JSON.parse(res.text) as ModelScore };
      if (res.status === 422 || res.status === 404) {
        const refusal = JSON.parse(res.text) as { type: 'InvalidFeatures' | 'ModelNotFound'; message: string; details?: unknown };
        return { ok: false, type: refusal.type, message: refusal.message, details: refusal.details };
      }
      // 503 (overloaded) falls back for this call only; anything else (401: secrets differ) is a misconfiguration.
      if (res.status !== 503) return unreachable(`status ${res.status}`);
      return undefined;
    },
    async suggestDiagnoses(text) {
      if (Date.now() < pausedUntil) return undefined;
      let res: { status: number; text: string };
      try {
        res = await post(JSON.stringify({ text }), suggestUrl);
      } catch (err) {
        return unreachable(err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : 'error');
      }
      if (res.status === 200) return { ok: true, result: JSON.parse(res.text) as SuggestionResult };
      if (res.status === 422 || res.status === 404) {
        const refusal = JSON.parse(res.text) as { type: 'InvalidInput' | 'ModelNotFound'; message: string; details?: unknown };
        return { ok: false, type: refusal.type, message: refusal.message, details: refusal.details };
      }
      if (res.status !== 503) return unreachable(`status ${res.status}`);
      return undefined;
    },
    close: () => agent.destroy(),
  };
}
