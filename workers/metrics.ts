/**
 * Each worker's own /metrics (WORKER_METRICS_PORT, 0 = off): our prom-client registry (process
 * runs counted by the workflow interceptor's sink, CDS latency) followed by the Temporal SDK's
 * worker metrics. The SDK's core serves those on its own Prometheus endpoint; we bind that to a
 * private loopback port and forward it, so each worker is one scrape target behind one access rule.
 */
import net from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { InjectedSinks } from '@temporalio/worker';
import type { Config } from '../platform/config';
import { errorBody } from '../platform/error-body';
import { metricsAccess } from '../platform/metrics-access';
import { METRICS_CONTENT_TYPE, metricsRegistry, recordProcessEnded, recordProcessStarted, renderMetrics } from '../platform/metrics';
import type { AuthEnv } from '../platform/tokens';
import type { ProcessMetricsSinks } from '../workflows/metrics-interceptor';

export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/metrics-interceptor')];

/** The sink the bundled workflow interceptor reports process runs to (never called on replay). */
export function processMetricsSinks(): InjectedSinks<ProcessMetricsSinks> {
  return {
    processMetrics: {
      started: { fn: (info) => recordProcessStarted(info.workflowType), callDuringReplay: false },
      ended: { fn: (info, outcome) => recordProcessEnded(info.workflowType, outcome), callDuringReplay: false },
    },
  };
}

/** Where the SDK's core should serve its Prometheus text (Runtime.install telemetryOptions). */
export function coreMetricsTelemetry(bindAddress: string) {
  return { metrics: { prometheus: { bindAddress, countersTotalSuffix: true, useSecondsForDurations: true } } };
}

/** A free loopback port for the SDK's private metrics endpoint. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface WorkerMetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Serves GET /metrics on the worker's own port: loopback scrapers freely, anyone else with METRICS_TOKEN or an ops or admin token. */
export async function serveWorkerMetrics(opts: {
  config: Config;
  port: number;
  host?: string;
  coreMetricsUrl?: string;
}): Promise<WorkerMetricsServer> {
  const app = new Hono<AuthEnv>();
  const core = opts.coreMetricsUrl;
  app.get('/metrics', metricsAccess(opts.config, { metricsToken: opts.config.METRICS_TOKEN, loopbackOpen: true }), async (c) =>
    c.text(await renderMetrics(metricsRegistry, core ? () => fetch(core).then((r) => r.text()) : undefined), 200, {
      'content-type': METRICS_CONTENT_TYPE,
    }),
  );
  app.onError((_err, c) => c.json(errorBody('internal', 'Metrics could not be collected.'), 500));
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: opts.host ?? '127.0.0.1', port: opts.port }, (info) =>
      resolve({ port: info.port, close: () => new Promise<void>((done) => server.close(() => done())) }),
    );
  });
}
