/**
 * Health of each part of the engine, for load balancers and ops: Postgres, Temporal, and (when
 * WORKER_HEALTH_DIR says where their files are) each worker, from the age of the file it touches
 * while it can work (workers/health-file.ts). Any part down: 503, `status: "degraded"` and
 * `degraded` naming the parts. Parts that work but need ops soon are named in `warnings` (still 200):
 * `calendar` when a year lacks production-calendar decree data (docs/calendar-and-offers.md).
 */
import { statfsSync } from 'node:fs';
import { createRoute, z } from '@hono/zod-openapi';
import { pingDb } from '../db';
import { calendarHealth } from '../platform/calendar-watch';
import { healthFileAgeMs, WORKER_NAMES, WORKER_STALE_MS, workerHealthFile } from '../platform/health';
import { newRouter, type ApiDeps } from './router';

/** A dependency that does not answer within this is down (health must answer fast, not hang). */
const CHECK_DEADLINE_MS = 3000;

/** Below this much free space in DATA_DIR (Postgres' files, Temporal's SQLite, logs) writes are about to fail. */
const DISK_LOW_BYTES = 64 * 1024 * 1024;

const DependencySchema = z.object({ up: z.boolean(), latencyMs: z.number() });
const DiskSchema = z.object({ up: z.boolean(), freeMb: z.number(), path: z.string() });
const WorkerSchema = z.object({ up: z.boolean(), lastBeatSecondsAgo: z.number().nullable() });
const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    degraded: z
      .array(z.string())
      .openapi({ description: 'The parts that are down: postgres, temporal, worker-clinical, worker-cds', example: ['worker-cds'] }),
    postgres: DependencySchema,
    temporal: DependencySchema.extend({ namespace: z.string() }),
    workers: z
      .record(z.string(), WorkerSchema)
      .optional()
      .openapi({ description: 'Each worker, from its health file (absent when WORKER_HEALTH_DIR is not set)' }),
    disk: DiskSchema.optional().openapi({ description: 'Free space of the local data folder (npm start only): down below 64 MB' }),
    warnings: z.array(z.string()).openapi({
      description:
        'Parts that work but need ops soon, without failing the check: calendar (a year without production-calendar decree data)',
      example: ['calendar'],
    }),
    calendar: z.object({
      up: z.boolean(),
      decreeYears: z.record(z.string(), z.array(z.number())),
      missingYears: z.record(z.string(), z.array(z.number())),
      deadlinesWithoutDecree: z.number().openapi({ description: 'Deadlines this API process counted through a year without decree data' }),
    }),
  })
  .openapi('Health');

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  summary: 'Reports whether Postgres, Temporal and each worker are up',
  responses: {
    200: { description: 'Every part is up', content: { 'application/json': { schema: HealthSchema } } },
    503: { description: 'A part is down: `degraded` names it', content: { 'application/json': { schema: HealthSchema } } },
  },
});

async function timed(check: () => Promise<boolean>): Promise<{ up: boolean; latencyMs: number }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_DEADLINE_MS);
  });
  const up = await Promise.race([check().catch(() => false), deadline]);
  clearTimeout(timer);
  return { up, latencyMs: Math.round(performance.now() - started) };
}

export function healthRouter(deps: ApiDeps) {
  return newRouter().openapi(healthRoute, async (c) => {
    const namespace = deps.config.TEMPORAL_NAMESPACE;
    const [postgres, temporal] = await Promise.all([
      timed(() => pingDb(deps.db)),
      timed(() =>
        deps.temporal.connection
          .withDeadline(Date.now() + CHECK_DEADLINE_MS, () => deps.temporal.workflowService.describeNamespace({ namespace }))
          .then(() => true),
      ),
    ]);
    const dir = deps.config.WORKER_HEALTH_DIR;
    const workers = dir
      ? Object.fromEntries(
          WORKER_NAMES.map((name) => {
            const age = healthFileAgeMs(workerHealthFile(dir, name));
            return [name, { up: age !== null && age <= WORKER_STALE_MS, lastBeatSecondsAgo: age === null ? null : Math.round(age / 1000) }];
          }),
        )
      : undefined;
    // The local engine's data folder: Postgres and Temporal stop writing when it fills.
    const disk = dir ? dataDiskSpace(deps.config.DATA_DIR) : undefined;
    const degraded = [
      ...(postgres.up ? [] : ['postgres']),
      ...(temporal.up ? [] : ['temporal']),
      ...Object.entries(workers ?? {})
        .filter(([, w]) => !w.up)
        .map(([name]) => name),
      ...(disk && !disk.up ? ['disk'] : []),
    ];
    // A calendar gap is a warning, not a 503: the engine still counts (by date-holidays) and says so.
    const calendar = calendarHealth();
    const warnings = calendar.up ? [] : ['calendar'];
    const body = {
      status: degraded.length ? ('degraded' as const) : ('ok' as const),
      degraded,
      warnings,
      postgres,
      temporal: { ...temporal, namespace },
      ...(workers ? { workers } : {}),
      ...(disk ? { disk } : {}),
      calendar,
    };
    return degraded.length ? c.json(body, 503) : c.json(body, 200);
  });
}

function dataDiskSpace(path: string): { up: boolean; freeMb: number; path: string } | undefined {
  try {
    const fs = statfsSync(path);
    const free = fs.bavail * fs.bsize;
    return { up: free >= DISK_LOW_BYTES, freeMb: Math.floor(free / (1024 * 1024)), path };
  } catch {
    return undefined;
  }
}
