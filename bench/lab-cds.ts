/**
 * `npm run bench:lab`: time from "results posted" to "CDS card available" for lab orders, end to
 * end through the API (lab posts a lipid panel + glucose → workflow validates, records, goes final →
 * clinical worker gathers features from Postgres → cds worker scores → card stored → the doctor's
 * waiting `GET /lab-orders/{id}/cds?wait=30s` returns). Median and p99 over BENCH_LAB_ORDERS orders
 * (default 100) at each client concurrency in BENCH_CONCURRENCY (default 1,10). Also the server-side
 * figure: the card's stored time minus the order's final time, both written by Postgres.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { labApi, LIPIDS_MMOL, makeLabClinic, makeLabPatient } from '../tests/lab-fixtures';
import { startTestEngine } from '../tests/helpers';
import { percentile, startBenchStack } from './stack';

const ORDERS = Number(process.env.BENCH_LAB_ORDERS ?? 100);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,10').split(',').map(Number);

async function main() {
  const stack = await startBenchStack();
  const engine = await startTestEngine();
  const rows: Array<Record<string, number | string>> = [];
  try {
    for (const concurrency of CONCURRENCY) {
      const clinic = await makeLabClinic(engine.db, { amendWindowSeconds: 1 });
      const api = labApi(engine, clinic);
      // Set-up, not timed: a patient with vitals and a received specimen per order.
      const orders: string[] = [];
      for (let i = 0; i < ORDERS; i++) {
        const patientId = await makeLabPatient(engine.db, i % 2 ? 'male' : 'female');
        await engine.db
          .insertInto('patient_vitals')
          .values(
            [
              ['39156-5', 27 + (i % 8), 'kg/m2'],
              ['8480-6', 130, 'mm[Hg]'],
              ['8462-4', 85, 'mm[Hg]'],
            ].map(([loinc, value, unit]) => ({
              patient_id: patientId,
              loinc: loinc as string,
              value: value as number,
              unit: unit as string,
              effective_at: new Date(),
              recorded_by: 'bench',
              dedupe_key: `bench:${randomUUID()}`,
            })),
          )
          .execute();
        const created = await api.order(patientId, ['24331-1', '2345-7']);
        await api.collectAndReceive(created.body.id);
        orders.push(created.body.id);
      }
      const doctor = await api.doctorToken();
      const latencies: number[] = [];
      let failures = 0;
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < orders.length) {
            const id = orders[next++]!;
            const t0 = performance.now();
            const posted = await api.post(id, [...LIPIDS_MMOL, { loinc: '2345-7', value: 5 + (next % 20) / 10, unit: 'mmol/L' }]);
            const card = await api.call('GET', `/lab-orders/${id}/cds?wait=30s`, doctor);
            latencies.push(performance.now() - t0);
            if (
              posted.status !== 200 ||
              card.body.status !== 'ready' ||
              !String(card.body.cards[0]?.summary).startsWith('Diabetes progression:')
            )
              failures++;
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const server = await engine.db
        .selectFrom('lab_cds_cards as c')
        .innerJoin('lab_orders as o', 'o.id', 'c.lab_order_id')
        .select(sql<number>`extract(epoch FROM c.created_at - o.final_at) * 1000`.as('ms'))
        .where('o.id', 'in', orders)
        .execute();
      const serverMs = server.map((r) => Number(r.ms));
      rows.push({
        concurrency,
        orders: orders.length,
        failures,
        ordersPerSecond: +(orders.length / seconds).toFixed(1),
        postToCardP50Ms: +percentile(latencies, 50).toFixed(1),
        postToCardP99Ms: +percentile(latencies, 99).toFixed(1),
        finalToStoredP50Ms: +percentile(serverMs, 50).toFixed(1),
        finalToStoredP99Ms: +percentile(serverMs, 99).toFixed(1),
      });
    }
    console.table(rows);
  } finally {
    await engine.stop();
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
