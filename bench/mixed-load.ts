/**
 * A city's mixed load against a running engine's HTTP API, shared by `npm run bench:mixed`, the
 * fault runs (`npm run bench:faults`) and tests/faults-*.int.test.ts: virtual users start journeys at
 * a fixed rate (open loop), each journey a few requests a clinic makes in turn: slot searches;
 * bookings then confirm, cancel or reschedule; two users racing for one slot and late bookers of a
 * taken one (deliberate conflicts); referrals; lab orders collected, received, resulted (JSON or
 * HL7 v2, some critical), the doctor awaiting the CDS card and acknowledging; onboarding incidents.
 *
 * Requests are made with fetch in a small paced loop rather than autocannon (not installed here):
 * a journey needs the previous answer (the appointment's id, the order's id) and retries with the
 * same Idempotency-Key, which autocannon's fixed request lists do not do. `call()` is the one place
 * to switch the HTTP client.
 */
import { randomUUID } from 'node:crypto';
import { nameUuid } from '../domain/ids';
import { journeys, type Journey } from './mixed-journeys';

export interface LoadTarget {
  apiUrl: string;
  tokens: Record<string, string>;
}

export interface LoadOptions {
  durationMs: number;
  /** Journeys started per second (each is 1–6 requests). */
  rate: number;
  /** Journeys in flight at most; a tick beyond it is counted as skipped. */
  maxInFlight?: number;
  /** Retry network errors and 502/503/504 with the same Idempotency-Key until this long has passed (0: never). */
  retryForMs?: number;
  /** Prefix of every Idempotency-Key (unique per run). */
  runId?: string;
  /** Journey weights by name (defaults in mixed-journeys.ts). */
  weights?: Partial<Record<string, number>>;
}

export interface Answer {
  status: number;
  body: any;
  code?: string;
}

/** What a run did: per operation every attempt's latency and outcome, and what it created. */
export class LoadRecord {
  readonly ops = new Map<string, { latencies: number[]; outcomes: Map<string, number> }>();
  readonly created = {
    appointments: new Map<string, string>(),
    referrals: new Map<string, string>(),
    labOrders: new Map<string, string>(),
  };
  /** Idempotency keys sent per kind (a key may have been sent several times). */
  readonly keysSent = { appointments: new Set<string>(), referrals: new Set<string>(), labOrders: new Set<string>() };
  /** Lab orders whose results were accepted (final, so a CDS card must follow). */
  readonly resulted = new Set<string>();
  journeys = { started: 0, finished: 0, skipped: 0, failed: 0 };
  startedAt = Date.now();
  endedAt = 0;

  note(op: string, ms: number, outcome: string): void {
    let entry = this.ops.get(op);
    if (!entry) this.ops.set(op, (entry = { latencies: [], outcomes: new Map() }));
    entry.latencies.push(ms);
    entry.outcomes.set(outcome, (entry.outcomes.get(outcome) ?? 0) + 1);
  }

  /** Attempts of every op with an outcome matching `test` (e.g. 5xx). */
  count(test: (outcome: string) => boolean): number {
    let n = 0;
    for (const { outcomes } of this.ops.values()) for (const [o, c] of outcomes) if (test(o)) n += c;
    return n;
  }
}

const RETRYABLE = new Set([0, 502, 503, 504]);

/** The HTTP client of every journey: one request, retried (same headers, same body) while the engine is away. */
export function caller(target: LoadTarget, record: LoadRecord, retryForMs: number) {
  return async function call(
    op: string,
    method: string,
    path: string,
    token: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const first = Date.now();
    let delay = 250;
    for (;;) {
      const started = performance.now();
      let answer: Answer;
      try {
        const isText = typeof body === 'string';
        const res = await fetch(`${target.apiUrl}${path}`, {
          method,
          signal: AbortSignal.timeout(30_000),
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': isText ? 'x-application/hl7-v2+er7' : 'application/json' }),
            ...headers,
          },
          body: body === undefined ? undefined : isText ? body : JSON.stringify(body),
        });
        const text = await res.text();
        let json: any = text;
        try {
          json = JSON.parse(text);
        } catch {
          /* HL7 ACK or empty */
        }
        answer = {
          status: res.status,
          body: json,
          code: typeof json === 'object' && json?.error?.code ? String(json.error.code) : undefined,
        };
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
        answer = { status: 0, body: undefined, code: cause };
      }
      record.note(
        op,
        performance.now() - started,
        answer.status === 0 ? `network ${answer.code}` : answer.code ? `${answer.status} ${answer.code}` : String(answer.status),
      );
      if (!RETRYABLE.has(answer.status) || Date.now() - first + delay > retryForMs) return answer;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2_000);
    }
  };
}
export type Call = ReturnType<typeof caller>;

/** The demo city's ids the journeys use (local-stack/demo.ts tokens, db/seed.ts ids). */
export interface City {
  pc01: string;
  pilots: string[];
  patients: string[];
  doctorPractitionerId: string;
}
export function demoCity(): City {
  const demoId = (key: string) => nameUuid('demo', key);
  return {
    pc01: demoId('clinic:PC-01'),
    pilots: ['PC-01', 'PC-02', 'PC-03'].map((c) => demoId(`clinic:${c}`)),
    patients: Array.from({ length: 200 }, (_, n) => demoId(`patient:${n}`)),
    doctorPractitionerId: demoId('practitioner:PC-01:0'),
  };
}

/** Runs the mixed load for durationMs and resolves when the last journey has ended. */
export async function runMixedLoad(target: LoadTarget, opts: LoadOptions, record = new LoadRecord()): Promise<LoadRecord> {
  const runId = opts.runId ?? `mixed-${randomUUID().slice(0, 8)}`;
  const call = caller(target, record, opts.retryForMs ?? 90_000);
  const all = journeys({ call, tokens: target.tokens, city: demoCity(), record, runId }, opts.weights);
  const total = all.reduce((s, j) => s + j.weight, 0);
  const pick = (): Journey => {
    let r = Math.random() * total;
    for (const j of all) if ((r -= j.weight) < 0) return j;
    return all[0]!;
  };
  const maxInFlight = opts.maxInFlight ?? 64;
  const inFlight = new Set<Promise<void>>();
  record.startedAt = Date.now();
  const end = record.startedAt + opts.durationMs;
  for (let tick = 0; ; tick++) {
    const at = record.startedAt + (tick * 1000) / opts.rate;
    if (at >= end) break;
    const wait = at - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (inFlight.size >= maxInFlight) {
      record.journeys.skipped++;
      continue;
    }
    const journey = pick();
    record.journeys.started++;
    const p: Promise<void> = journey
      .run()
      .then(
        () => {
          record.journeys.finished++;
        },
        () => {
          record.journeys.failed++;
        },
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  record.endedAt = Date.now();
  return record;
}
