/**
 * `npm run bench:booking [-- --server]`: complete bookings against the engine as users run it
 * (`npm start`: API, both workers, Temporal and Postgres as their own processes on this machine).
 * At 1, 8 and 32 clients, in one run on the same slots:
 *   - plain: the same hold and confirm transactions straight on Postgres (no HTTP, no workflow);
 *   - two-call: POST /appointments then POST …/confirm through the API (autocannon);
 *   - one-call: POST /appointments with "confirm": true (the registrar's desk);
 * with the workflow/plain ratio, p50/p99 of each call, the time until every booking's process
 * says `booked` in Temporal, and CPU ms per booking of each process. Then a 500-way race for one
 * slot, and slot search over a city grown to ~1M slots. Prints a table and one JSON line.
 */
import os from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { createBookingActivities } from '../activities/booking';
import { bookingPolicy } from '../db/booking';
import { benchJobs, benchPatients, benchSlots, benchClinic, growCity } from './booking-fixtures';
import { evenJobs, runBookingLoad, runSlotRace, type BookingJob, type BookingMode } from './booking-load';
import { runSearches } from './booking-search';
import { startEngineProcess, type EngineProcess } from './engine-process';
import { cpuSeconds } from './process-cpu';
import { relayAlone, relayCounts, startLag } from './booking-outbox';
import { CLINICAL_TASK_QUEUE } from '../domain/task-queues';
import { percentile } from './stack';

// `--server`: the production server only; `--both`: the dev server, then the server, one table.
const MODES: Array<'dev' | 'server'> = process.argv.includes('--both')
  ? ['dev', 'server']
  : process.argv.includes('--server')
    ? ['server']
    : ['dev'];
const CLIENTS = (process.env.BENCH_CLIENTS ?? '1,8,32').split(',').filter(Boolean).map(Number);
const PER_LEVEL: Record<number, number> = { 1: 200, 8: 600, 32: 1000 };
const bookingsAt = (clients: number) => evenJobs(Number(process.env.BENCH_BOOKINGS ?? PER_LEVEL[clients] ?? 600), clients);
const RACE = Number(process.env.BENCH_RACE ?? 500);
const CITY_SLOTS = Number(process.env.BENCH_SLOTS ?? 1_000_000);
const say = (line: string) => process.stdout.write(`${line}\n`);

type Row = Record<string, string | number>;

/** The same bookings as plain Postgres transactions: hold then confirm, `clients` at a time. */
async function plainBookings(engine: EngineProcess, jobs: BookingJob[], clients: number, clinicId: string) {
  const booking = createBookingActivities({ db: engine.db });
  const policy = await bookingPolicy(engine.db, clinicId);
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < jobs.length; i = next++) {
        const job = jobs[i]!;
        const t0 = performance.now();
        const appointmentId = crypto.randomUUID();
        try {
          await booking.holdSlotRow({
            appointmentId,
            workflowId: `plain-${appointmentId}`,
            patientId: job.patientId,
            slotId: job.slotId,
            bookedBy: 'bench',
            policy,
          });
          await booking.confirmAppointment({ appointmentId, workflowId: `plain-${appointmentId}`, by: 'bench' });
        } catch {
          failures++;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  // Frees the slots for the runs through the API (the audit rows stay: the log is append-only).
  await engine.db.deleteFrom('appointments').where('clinic_id', '=', clinicId).execute();
  return {
    perSecond: +((jobs.length - failures) / seconds).toFixed(1),
    p50: +percentile(latencies, 50).toFixed(1),
    p99: +percentile(latencies, 99).toFixed(1),
    failures,
  };
}

/** CPU seconds used so far by each of the engine's processes. */
function cpuByProcess(engine: EngineProcess): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pids] of Object.entries(engine.pids())) out[name] = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  return out;
}

/** Seconds from `since` until Temporal lists `count` of the clinic's processes as booked. */
async function catchUp(temporal: Client, clinicId: string, count: number, since: number): Promise<number> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const { count: n } = await temporal.workflow.count(
      `WorkflowType = 'bookingWorkflow' AND ClinicId = '${clinicId}' AND ProcessStatus = 'booked'`,
    );
    if (n >= count) return +((performance.now() - since) / 1000).toFixed(1);
    await new Promise((r) => setTimeout(r, 250));
  }
  return NaN;
}

async function apiRun(
  engine: EngineProcess,
  temporal: Client,
  mode: BookingMode,
  clients: number,
  jobs: BookingJob[],
  clinicId: string,
  row: Row,
) {
  const token = await engine.token({ id: 'bench-registrar', role: 'registrar', clinicId });
  const cpu0 = cpuByProcess(engine);
  const load = await runBookingLoad({
    apiUrl: engine.baseUrl,
    token,
    jobs,
    clients,
    mode,
    keyPrefix: `bench-${mode}-${clients}-${Date.now()}`,
  });
  const ended = performance.now();
  const endedAt = new Date();
  const cpu1 = cpuByProcess(engine);
  const settled = await catchUp(temporal, clinicId, load.completed, ended);
  // Answer → process started (the relay's stamp); absent before the outbox (the column then meant the API's own start).
  const lag = await startLag(engine, clinicId, endedAt).catch(() => undefined);
  if (lag)
    Object.assign(
      row,
      mode === 'two-call' ? lag : Object.fromEntries(Object.entries(lag).map(([k, v]) => [`1call${k[0]!.toUpperCase()}${k.slice(1)}`, v])),
    );
  const cpuMs = Object.fromEntries(
    Object.keys(cpu1).map((k) => [k, +(((cpu1[k]! - (cpu0[k] ?? 0)) * 1000) / Math.max(1, load.completed)).toFixed(1)]),
  );
  const prefix = mode === 'two-call' ? '' : '1call';
  Object.assign(row, {
    [`${prefix || 'api'}PerSec`]: load.completePerSecond,
    [`${prefix || 'book'}P50`]: load.bookP50,
    [`${prefix || 'book'}P99`]: load.bookP99,
    ...(mode === 'two-call'
      ? { confirmP50: load.confirmP50!, confirmP99: load.confirmP99!, allBookedInTemporalS: settled }
      : { '1callBookedInTemporalS': settled }),
    // Bookings per second until the last process says booked: answered, and durable in Temporal.
    [`${prefix || 'api'}ProcessesPerSec`]: +(load.completed / (load.completed / Math.max(0.1, load.completePerSecond) + settled)).toFixed(
      1,
    ),
    [`${mode}Failures`]:
      Object.entries(load.failures)
        .map(([k, v]) => `${k}×${v}`)
        .join(', ') || 0,
  });
  return { load, cpuMs };
}

async function runMode(mode: 'dev' | 'server') {
  say(`starting the engine (npm start, TEMPORAL_MODE=${mode})...`);
  const engine = await startEngineProcess({ temporalMode: mode, env: { LOG_LEVEL: 'warn' } });
  say(`engine up in ${engine.startSeconds.toFixed(1)} s`);
  const connection = await Connection.connect({ address: engine.temporalAddress });
  const temporal = new Client({ connection, namespace: 'default' });
  const rows: Row[] = [];
  const cpuRows: Row[] = [];
  const extra: Row[] = [];
  try {
    for (const clients of CLIENTS) {
      const n = bookingsAt(clients);
      say(`== ${clients} client(s), ${n} bookings each way`);
      const { clinic, jobs } = await benchJobs(engine.db, n);
      const plain = await plainBookings(engine, jobs, clients, clinic.clinicId);
      const row: Row = { temporal: mode, clients, bookings: n, plainPerSec: plain.perSecond, plainP50: plain.p50, plainP99: plain.p99 };
      const two = await apiRun(engine, temporal, 'two-call', clients, jobs, clinic.clinicId, row);
      const other = await benchJobs(engine.db, n);
      await apiRun(engine, temporal, 'one-call', clients, other.jobs, other.clinic.clinicId, row);
      row.ratioPlainToApi = +(plain.perSecond / Math.max(0.1, two.load.completePerSecond)).toFixed(1);
      rows.push(row);
      cpuRows.push({ temporal: mode, clients, ...two.cpuMs });
      say(JSON.stringify(row));
    }

    if (process.env.BENCH_RELAY_ALONE !== '0') {
      const n = Number(process.env.BENCH_RELAY_ALONE ?? 1000);
      say(`== the relay alone: ${n} bookings committed, then handed to it at once`);
      const parked = await benchJobs(engine.db, n);
      const c0 = cpuByProcess(engine);
      const alone = await relayAlone(engine, parked.jobs, parked.clinic.clinicId, CLINICAL_TASK_QUEUE);
      const c1 = cpuByProcess(engine);
      extra.push({ temporal: mode, test: 'relay-alone', ...alone });
      cpuRows.push({
        temporal: mode,
        clients: 'relay alone',
        ...Object.fromEntries(Object.keys(c1).map((k) => [k, +(((c1[k]! - (c0[k] ?? 0)) * 1000) / n).toFixed(1)])),
      });
    }

    say(`== a ${RACE}-way race for one slot`);
    const raceClinic = await benchClinic(engine.db);
    const [raceSlot] = await benchSlots(engine.db, raceClinic, 1, 3);
    const racers = await benchPatients(engine.db, RACE);
    const raceToken = await engine.token({ id: 'bench-registrar', role: 'registrar', clinicId: raceClinic.clinicId });
    extra.push({
      temporal: mode,
      test: 'race',
      ...(await runSlotRace({
        apiUrl: engine.baseUrl,
        token: raceToken,
        slotId: raceSlot!,
        patientIds: racers,
        keyPrefix: `race-${Date.now()}`,
      })),
    });

    say(`== slot search over ~${CITY_SLOTS} slots`);
    const t0 = performance.now();
    const slots = await growCity(engine.db, CITY_SLOTS);
    say(`city has ${slots} slots (grown in ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    const searchToken = await engine.token({ id: 'bench-patient', role: 'patient', patientId: racers[0]! });
    extra.push({
      temporal: mode,
      test: 'search-week-by-specialty',
      slotsInDb: slots,
      ...(await runSearches({ apiUrl: engine.baseUrl, token: searchToken, count: 400 })),
    });
    const counts = await relayCounts(engine.output());
    const starts = (counts.start ?? 0) + (counts.start_eager ?? 0);
    if (starts)
      extra.push({
        temporal: mode,
        test: 'eager grants',
        starts,
        eager: counts.start_eager ?? 0,
        folded: counts.folded ?? 0,
        told: counts.told ?? 0,
      });
  } finally {
    await connection.close();
    await engine.stop();
  }
  return { rows, cpuRows, extra };
}

/** The figures issue 20's goals are stated in, one line each (2 cores: race <= 1 s, book p50 <= 10 ms, relay >= 100/s, >= 0.9 x plain). */
function goalFigures(all: { rows: Row[]; extra: Row[] }): string[] {
  const lines = ['Figures against the goals of issue 20:'];
  for (const r of all.rows) {
    const ratio = (v: unknown) => (Number(r.plainPerSec) > 0 ? (Number(v) / Number(r.plainPerSec)).toFixed(2) : '?');
    lines.push(
      `  ${r.temporal} ${r.clients} client(s): answered/s two-call ${r.apiPerSec} (${ratio(r.apiPerSec)} × plain), one-call ${r['1callPerSec']} ` +
        `(${ratio(r['1callPerSec'])} × plain ${r.plainPerSec}); book p50 ${r.bookP50} ms (plain p50 ${r.plainP50} ms, one-call ${r['1callP50']} ms); ` +
        `answer → started p50/p99 two-call ${r.lagP50S}/${r.lagP99S} s, one-call ${r['1callLagP50S']}/${r['1callLagP99S']} s`,
    );
  }
  for (const e of all.extra) {
    if (e.test === 'relay-alone')
      lines.push(
        `  ${e.temporal} relay alone: ${e.relayAlonePerSec} processes/s durable (${e.relayAloneProcesses} in ${e.relayAloneSeconds} s)`,
      );
    if (e.test === 'race')
      lines.push(`  ${e.temporal} ${e.clients}-way race for one slot: all answered in ${e.allAnsweredMs} ms (${e.answers})`);
    if (e.test === 'eager grants')
      lines.push(`  ${e.temporal} eager grants: ${e.eager} of ${e.starts} starts; ${e.folded} confirms folded, ${e.told} tells`);
  }
  return lines;
}

async function main() {
  const all = { rows: [] as Row[], cpuRows: [] as Row[], extra: [] as Row[] };
  for (const mode of MODES) {
    const r = await runMode(mode);
    all.rows.push(...r.rows);
    all.cpuRows.push(...r.cpuRows);
    all.extra.push(...r.extra);
  }
  const names = {
    dev: 'dev = Temporal CLI v1.5.1 dev server, SQLite file (WAL)',
    server: 'server = temporal-server v1.29.1, Postgres persistence, 4 shards',
  };
  say(
    `\nbench:booking against npm start; ${MODES.map((m) => names[m]).join('; ')}; ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, load average ${os.loadavg()[0]!.toFixed(1)} at the end; ${new Date().toISOString().slice(0, 16)}Z`,
  );
  say('Complete bookings/s (hold + confirm answered 201 + 200) and latencies in ms; plain = the same transactions on Postgres alone:');
  console.table(all.rows);
  say('CPU ms per complete booking (process included), by process: two-call run per level, and the relay alone:');
  console.table(all.cpuRows);
  console.table(all.extra);
  for (const line of goalFigures(all)) say(line);
  say(JSON.stringify({ bench: 'booking', ...all }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
