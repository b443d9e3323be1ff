/**
 * The cds worker's internal scoring endpoint: `POST /score` on CDS_INFERENCE_HOST:PORT, for the
 * CDS Hooks API, whose hook calls are synchronous and stateless and so need no workflow (see
 * api/cds-assess.ts). It runs the very scoreModel the Temporal activity runs, through the same
 * batcher, so both paths give the same score. Guarded by a shared secret header; at most
 * maxPending requests in flight, beyond which it answers 503 at once and the API falls back to
 * the workflow path. Bodies over 64 KB are refused. Logs carry no request content.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import {
  CDS_INFERENCE_PATH,
  CDS_INFERENCE_SECRET_HEADER,
  SUGGEST_DIAGNOSES_PATH,
  type ModelScore,
  type ScoreModelInput,
} from '../activities/cds';
import type { SuggestDiagnosesInput } from '../activities/diagnosis';
import type { SuggestionResult } from '../domain/cds/diagnosis';

const MAX_BODY_BYTES = 64 * 1024;

export interface InferenceServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  secret: string;
  maxPending: number;
  scoreModel(input: ScoreModelInput): Promise<ModelScore>;
  /** Diagnosis suggestions (POST /suggest-diagnoses); absent when the worker has not loaded that model (404 ModelNotFound). */
  suggestDiagnoses?(input: SuggestDiagnosesInput): Promise<SuggestionResult>;
}

export interface InferenceServer {
  port: number;
  /** Requests answered, refused as overloaded, and in flight now. */
  readonly stats: { answered: number; overloaded: number; pending: number };
  close(): Promise<void>;
}

const digestOf = (s: string) => createHash('sha256').update(s).digest();

/** Starts the endpoint; resolves once it listens. */
export async function serveInference(opts: InferenceServerOptions): Promise<InferenceServer> {
  if (opts.secret.length < 32) throw new Error('the CDS inference endpoint needs CDS_INFERENCE_SECRET (at least 32 characters)');
  const expected = digestOf(opts.secret);
  const stats = { answered: 0, overloaded: 0, pending: 0 };

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const server = http.createServer((req, res) => {
    const paths = [CDS_INFERENCE_PATH, SUGGEST_DIAGNOSES_PATH];
    if (req.method !== 'POST' || !paths.includes(req.url ?? ''))
      return send(res, 404, { type: 'NotFound', message: `POST ${paths.join(' or ')} only` });
    const given = req.headers[CDS_INFERENCE_SECRET_HEADER];
    if (typeof given !== 'string' || !timingSafeEqual(digestOf(given), expected))
      return send(res, 401, { type: 'Unauthenticated', message: 'wrong or missing secret' });
    if (stats.pending >= opts.maxPending) {
      stats.overloaded++;
      res.setHeader('retry-after', '1');
      return send(res, 503, { type: 'Overloaded', message: `more than ${opts.maxPending} requests pending` });
    }
    stats.pending++;
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (status: number, body: unknown) => {
      if (done) return;
      done = true;
      stats.pending--;
      stats.answered++;
      send(res, status, body);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) finish(413, { type: 'TooLarge', message: `body over ${MAX_BODY_BYTES} bytes` });
      else chunks.push(chunk);
    });
    req.on('error', () => finish(400, { type: 'BadRequest', message: 'request aborted' }));
    req.on('end', () => {
      if (done) return;
      let input: unknown;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return finish(400, { type: 'BadRequest', message: 'body is not JSON' });
      }
      const failed = (err: unknown) => {
        if (
          err instanceof ApplicationFailure &&
          (err.type === 'InvalidFeatures' || err.type === 'InvalidInput' || err.type === 'ModelNotFound')
        ) {
          finish(err.type === 'ModelNotFound' ? 404 : 422, { type: err.type, message: err.message, details: err.details?.[0] });
        } else {
          finish(500, { type: 'InferenceFailed', message: 'the model could not score this request' });
        }
      };
      if (req.url === SUGGEST_DIAGNOSES_PATH) {
        const text = (input as Partial<SuggestDiagnosesInput> | null)?.text;
        if (typeof text !== 'string') return finish(400, { type: 'BadRequest', message: 'expected { text }' });
        if (!opts.suggestDiagnoses)
          return finish(404, { type: 'ModelNotFound', message: 'this worker has not loaded the diagnosis-suggestions model' });
        opts.suggestDiagnoses({ text }).then((result) => finish(200, result), failed);
        return;
      }
      const score = input as ScoreModelInput | null;
      if (typeof score?.modelId !== 'string' || typeof score.features !== 'object' || score.features === null) {
        return finish(400, { type: 'BadRequest', message: 'expected { modelId, features }' });
      }
      opts.scoreModel({ modelId: score.modelId, features: score.features }).then((result) => finish(200, result), failed);
    });
  });
  // Longer than the API's idle keep-alive sockets live, so the API never writes to a socket closing here.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
