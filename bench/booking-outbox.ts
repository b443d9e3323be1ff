/**
 * What bench:booking measures of the outbox (docs/outbox.md): the lag from an answered booking to
 * its started process, the relay's rate alone, and the eager grants the clinical worker logged.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createBookingCommands } from '../commands/booking';
import { bookingPolicy } from '../db/booking';
import { bookingWorkflowId } from '../domain/booking';
import type { BookingJob } from './booking-load';
import type { EngineProcess } from './engine-process';

/**
 * Seconds from each answer (the row's commit, `created_at`) to its process started (the relay's
 * stamp), p50 and p99, and the tail: from the end of the load until the last process started.
 */
export async function startLag(
  engine: EngineProcess,
  clinicId: string,
  loadEndedAt: Date,
): Promise<{ lagP50S: number; lagP99S: number; tailAfterLoadS: number }> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const { rows } = await sql<{
      n: string;
    }>`SELECT count(*) AS n FROM appointments WHERE clinic_id = ${clinicId} AND process_started_at IS NULL`.execute(engine.db);
    if (Number(rows[0]!.n) === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const { rows } = await sql<{ p50: number; p99: number; last: Date }>`
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM process_started_at - created_at)) AS p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM process_started_at - created_at)) AS p99,
           max(process_started_at) AS last
    FROM appointments WHERE clinic_id = ${clinicId}`.execute(engine.db);
  const r = rows[0]!;
  return {
    lagP50S: +Number(r.p50).toFixed(2),
    lagP99S: +Number(r.p99).toFixed(2),
    tailAfterLoadS: +Math.max(0, (r.last.getTime() - loadEndedAt.getTime()) / 1000).toFixed(1),
  };
}

/**
 * The relay alone: `jobs` booked (confirm) by the command onto a parked task queue no relay drains,
 * then handed to the clinical queue in one statement and NOTIFY; seconds until every process started.
 */
export async function relayAlone(engine: EngineProcess, jobs: BookingJob[], clinicId: string, taskQueue: string) {
  const parked = `bench-parked-${randomUUID().slice(0, 8)}`;
  const commands = createBookingCommands({ db: engine.db, taskQueue: parked });
  const policy = await bookingPolicy(engine.db, clinicId);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < jobs.length; i = next++) {
        const id = randomUUID();
        await commands.book({
          appointmentId: id,
          workflowId: bookingWorkflowId(id),
          patientId: jobs[i]!.patientId,
          slotId: jobs[i]!.slotId,
          bookedBy: 'bench',
          policy,
          confirm: true,
        });
      }
    }),
  );
  const t0 = performance.now();
  await engine.db.transaction().execute(async (tx) => {
    await tx.updateTable('process_outbox').set({ task_queue: taskQueue }).where('task_queue', '=', parked).execute();
    await sql`SELECT pg_notify('process_outbox', '')`.execute(tx);
  });
  for (;;) {
    const { rows } = await sql<{
      n: string;
    }>`SELECT count(*) AS n FROM appointments WHERE clinic_id = ${clinicId} AND process_started_at IS NULL`.execute(engine.db);
    if (Number(rows[0]!.n) === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    relayAloneProcesses: jobs.length,
    relayAloneSeconds: +seconds.toFixed(1),
    relayAlonePerSec: +(jobs.length / seconds).toFixed(1),
  };
}

/** The clinical worker's relay counts, from its /metrics (the URL npm start's banner prints). */
export async function relayCounts(output: string): Promise<Record<string, number>> {
  const url = /workers (http:\/\/127\.0\.0\.1:\d+\/metrics) \(clinical\)/.exec(output)?.[1];
  if (!url) return {};
  const text = await fetch(url).then(
    (r) => r.text(),
    () => '',
  );
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/^clinical_outbox_delivered_total\{outcome="(\w+)"\} (\d+)/gm)) counts[m[1]!] = Number(m[2]);
  return counts;
}
