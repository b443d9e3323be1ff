/**
 * Our Prometheus metrics (prom-client), one registry per process: processes started and ended
 * per workflow type, booking conflicts, CDS scoring latency, HTTP latency per route pattern, and
 * gauges read from Postgres at scrape time. Labels carry types, codes, route patterns and
 * statuses only: never ids, never patient data.
 */
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });
const registers = [metricsRegistry];

/** Start requests Temporal accepted, counted by the API's client (a repeated idempotent request counts again). */
export const processStartRequests = new Counter({
  name: 'clinical_process_start_requests_total',
  help: 'Process start (or update-with-start) requests accepted, by workflow type',
  labelNames: ['workflow_type'],
  registers,
});
/** New process runs, counted by the worker that ran their first task (not during replay). */
export const processesStarted = new Counter({
  name: 'clinical_processes_started_total',
  help: 'Processes started, by workflow type',
  labelNames: ['workflow_type'],
  registers,
});
export const processesEnded = new Counter({
  name: 'clinical_processes_ended_total',
  help: 'Processes ended, by workflow type and outcome (completed, failed, cancelled, continued_as_new)',
  labelNames: ['workflow_type', 'outcome'],
  registers,
});
/** What the clinical worker's outbox relay delivered: starts (eager granted or not), folded rows, tells, rows retried. */
export const outboxDelivered = new Counter({
  name: 'clinical_outbox_delivered_total',
  help: 'Outbox rows delivered by the relay, by what happened (start_eager, start, folded, told, retried)',
  labelNames: ['outcome'],
  registers,
});
export const bookingConflicts = new Counter({
  name: 'clinical_booking_conflicts_total',
  help: 'Booking requests refused with 409 slot_taken or patient_busy, by code',
  labelNames: ['code'],
  registers,
});
export const cdsScoreSeconds = new Histogram({
  name: 'clinical_cds_score_seconds',
  help: 'CDS scoreModel activity duration (validation, batching wait and inference), by model',
  labelNames: ['model', 'outcome'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers,
});
export const httpRequestSeconds = new Histogram({
  name: 'clinical_http_request_duration_seconds',
  help: 'API request duration by method, route pattern (never the path) and status',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers,
});

/** Counts a booking conflict when the API answers with one of the conflict codes. */
export function countBookingConflict(code: string): void {
  if (code === 'slot_taken' || code === 'patient_busy') bookingConflicts.inc({ code });
}

/** Times an async call into a histogram, labelled with its outcome. */
export async function timed<T>(histogram: Histogram<'model' | 'outcome'>, labels: { model: string }, run: () => Promise<T>): Promise<T> {
  const end = histogram.startTimer(labels);
  try {
    const out = await run();
    end({ outcome: 'ok' });
    return out;
  } catch (err) {
    end({ outcome: 'error' });
    throw err;
  }
}

/** Client interceptor that counts accepted start requests per workflow type. */
export function startCountingInterceptor(): WorkflowClientInterceptor {
  return {
    async startWithDetails(input, next) {
      const out = await next(input);
      processStartRequests.inc({ workflow_type: input.workflowType });
      return out;
    },
    async signalWithStart(input, next) {
      const out = await next(input);
      processStartRequests.inc({ workflow_type: input.workflowType });
      return out;
    },
    async startUpdateWithStart(input, next) {
      const out = await next(input);
      processStartRequests.inc({ workflow_type: input.workflowType });
      return out;
    },
  };
}

/** Worker sink calls (from workflows/metrics-interceptor.ts), as sink functions get them. */
export function recordProcessStarted(workflowType: string): void {
  processesStarted.inc({ workflow_type: workflowType });
}
export function recordProcessEnded(workflowType: string, outcome: string): void {
  processesEnded.inc({ workflow_type: workflowType, outcome });
}

/** A gauge read from Postgres at scrape time: a number, or one value per label set. */
export interface DbGauge {
  name: string;
  help: string;
  labelNames?: string[];
  read(): Promise<number | Array<{ labels: Record<string, string>; value: number }>>;
}

/**
 * Registration hook for SQL-backed gauges (held slots now; referrals past deadline and critical
 * results awaiting acknowledgement join via db/metrics.ts). A gauge of the same name registered
 * earlier (a second app in one process) is replaced. A failing read reports -1, not a scrape error.
 */
export function registerDbGauges(registry: Registry, gauges: DbGauge[]): void {
  for (const spec of gauges) {
    registry.removeSingleMetric(spec.name);
    new Gauge({
      name: spec.name,
      help: spec.help,
      labelNames: spec.labelNames ?? [],
      registers: [registry],
      async collect() {
        this.reset();
        const value = await spec.read().catch(() => -1);
        if (typeof value === 'number') this.set(value);
        else for (const v of value) this.set(v.labels, v.value);
      },
    });
  }
}

/** Prometheus text of our registry, followed by another exposition (the Temporal SDK's) when given. */
export async function renderMetrics(registry: Registry = metricsRegistry, extra?: () => Promise<string>): Promise<string> {
  const ours = await registry.metrics();
  const theirs = extra ? await extra().catch(() => '# the Temporal SDK metrics endpoint did not answer\n') : '';
  return ours + (theirs ? `\n${theirs}` : '');
}

export const METRICS_CONTENT_TYPE = metricsRegistry.contentType;
