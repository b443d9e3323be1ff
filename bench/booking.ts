/**
 * `npm run bench:booking`: bookings per second end to end through the HTTP API (API → Temporal
 * update-with-start → clinical worker → Postgres) and the book call's p50/p99 latency, at several
 * client concurrencies; and slot search latency over a year of the demo city's slots.
 * Everything runs on this machine: API, worker, Temporal and Postgres share its cores.
 */
import { randomUUID } from 'node:crypto';
import { serve } from '@hono/node-server';
import { sql } from 'kysely';
import { DEMO_TIME_ZONE, seedDemoCity } from '../db/seed';
import { localToday } from '../domain/time';
import { freePort } from '../workers/stack';
import { daysFromNow, makeClinic, makePatient, makeSlot } from '../tests/fixtures';
import { startTestEngine } from '../tests/helpers';
import { percentile, startBenchStack } from './stack';

const BOOKINGS_PER_LEVEL = Number(process.env.BENCH_BOOKINGS ?? 300);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,8,32').split(',').map(Number);
const SEARCHES = 200;

async function main() {
  const stack = await startBenchStack();
  const engine = await startTestEngine();
  const port = await freePort();
  const server = serve({ fetch: engine.app.fetch, hostname: '127.0.0.1', port });
  const base = `http://127.0.0.1:${port}`;
  const token = await engine.token('registrar');
  const rows: Array<Record<string, number | string>> = [];
  try {
    for (const concurrency of CONCURRENCY) {
      const clinic = await makeClinic(engine.db, { policy: { horizonDays: 400, maxActivePerSpecialty: 100_000 } });
      const jobs = await Promise.all(Array.from({ length: BOOKINGS_PER_LEVEL }, async (_, i) => ({
        slotId: (await makeSlot(engine.db, clinic, new Date(daysFromNow(2).getTime() + i * 20 * 60_000))).id,
        patientId: await makePatient(engine.db),
      })));
      const latencies: number[] = [];
      let failures = 0;
      let next = 0;
      const started = performance.now();
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < jobs.length) {
          const job = jobs[next++]!;
          const t0 = performance.now();
          const res = await fetch(`${base}/appointments`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `bench-${randomUUID()}` },
            body: JSON.stringify(job),
          });
          await res.arrayBuffer();
          latencies.push(performance.now() - t0);
          if (res.status !== 201) failures++;
        }
      }));
      const seconds = (performance.now() - started) / 1000;
      rows.push({ test: 'book', concurrency, requests: jobs.length, failures, perSecond: +(jobs.length / seconds).toFixed(1), p50Ms: +percentile(latencies, 50).toFixed(1), p99Ms: +percentile(latencies, 99).toFixed(1) });
    }

    // A year of slots for the demo city, then searches by specialty over a week.
    const t0 = performance.now();
    const { slotsAdded } = await seedDemoCity(engine.db, { today: localToday(DEMO_TIME_ZONE), slotDays: 365, patients: 10 });
    const total = Number((await engine.db.selectFrom('slots').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    console.log(`seeded ${slotsAdded} more slots in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${total} slots in all`);
    await sql`ANALYZE`.execute(engine.db);
    const searchLatencies: number[] = [];
    const specialties = ['general-practice', 'cardiology', 'endocrinology', 'neurology', 'ophthalmology'];
    for (let i = 0; i < SEARCHES; i++) {
      const from = daysFromNow(1 + (i % 300)).toISOString().slice(0, 10);
      const to = daysFromNow(7 + (i % 300)).toISOString().slice(0, 10);
      const t = performance.now();
      const res = await fetch(`${base}/slots?from=${from}&to=${to}&specialty=${specialties[i % specialties.length]}&limit=50`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      searchLatencies.push(performance.now() - t);
    }
    rows.push({ test: 'search-week-by-specialty', concurrency: 1, requests: SEARCHES, failures: 0, slotsInDb: total, perSecond: +(SEARCHES / (searchLatencies.reduce((a, b) => a + b, 0) / 1000)).toFixed(1), p50Ms: +percentile(searchLatencies, 50).toFixed(1), p99Ms: +percentile(searchLatencies, 99).toFixed(1) });
  } finally {
    server.close();
    await engine.stop();
    await stack.stop();
  }
  console.table(rows);
  console.log(JSON.stringify({ bench: 'booking', rows }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
