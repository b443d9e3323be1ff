/**
 * `npm run bench:web`: server time per page at 16 concurrent users on the demo city. A throwaway
 * stack (bench/stack.ts: embedded Postgres seeded with the demo city, a Temporal dev server), the
 * API app with its pages on a real socket, 16 signed-in patients, autocannon with 16 connections
 * per page. Server time is measured around the app's fetch (request in, page rendered), so the
 * client's own cost is not in it. Prints p50/p95/max per page and whether p95 ≤ 100 ms.
 */
import { createHash, randomBytes } from 'node:crypto';
import { serve } from '@hono/node-server';
import autocannon from 'autocannon';
import { createApp } from '../api/app';
import { createDb } from '../db';
import { DEMO_TIME_ZONE, demoId } from '../db/seed';
import { createWebSession } from '../db/web-sessions';
import { addDays, localToday } from '../domain/time';
import { parseConfig } from '../platform/config';
import { createLogger } from '../platform/logger';
import { connectClient } from '../platform/temporal';
import { percentile, startBenchStack } from './stack';
import { labDoctorBenchPages } from './web-lab-doctor';

const USERS = 16;
const SECONDS = Number(process.env.BENCH_WEB_SECONDS ?? 8);
const GOAL_MS = 100;

async function main() {
  const stack = await startBenchStack();
  const config = parseConfig({ ...process.env, NODE_ENV: 'test', WEB_DEMO_SIGN_IN: 'on' });
  const db = createDb(config.DATABASE_URL!, 10);
  const temporal = await connectClient(config);
  const app = createApp({ config, db, temporal, logger: createLogger('bench', 'silent') });
  const times = new Map<string, number[]>();
  let current = '';
  /** Answers that were not pages (page and status → count): a page answering errors fast is not a fast page. */
  const refusals = new Map<string, number>();
  const server = serve({
    port: 0, hostname: '127.0.0.1',
    fetch: async (req, env) => {
      const started = performance.now();
      const res = await app.fetch(req, env);
      if (res.status < 400) times.set(current, [...(times.get(current) ?? []), performance.now() - started]);
      else refusals.set(`${current} ${res.status}`, (refusals.get(`${current} ${res.status}`) ?? 0) + 1);
      return res;
    },
  });
  await new Promise((r) => server.once('listening', r));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const users = await Promise.all(Array.from({ length: USERS }, async (_, i) => {
    const patientId = demoId(`patient:${i}`);
    const id = randomBytes(32).toString('base64url');
    await createWebSession(db, { idHash: createHash('sha256').update(id).digest('hex'), caller: { id: `bench-${i}`, role: 'patient', patientId }, csrfToken: 'x', signedInBy: 'bench', ttlSeconds: 3600 });
    return { cookie: `sid=${id}`, patientId };
  }));
  const tomorrow = addDays(localToday(DEMO_TIME_ZONE), 1);
  type User = (typeof users)[number];
  const pages: [string, (u: User) => string, User[]?][] = [
    ['sign-in', () => '/sign-in'],
    ['home', () => '/'],
    ['find a slot', () => `/patient/book?specialty=therapy&date=${tomorrow}`],
    ['my appointments', () => '/patient/appointments'],
    ['my referrals', (u) => `/records/${u.patientId}/referrals`],
    ['my results', (u) => `/records/${u.patientId}/results`],
    ['access log', (u) => `/records/${u.patientId}/access-log`],
  ];
  const specialty = (await db.selectFrom('practitioners').select('specialty').executeTakeFirstOrThrow()).specialty;
  pages[2] = ['find a slot', () => `/patient/book?specialty=${encodeURIComponent(specialty)}&date=${tomorrow}`];
  pages.push(...(await labDoctorBenchPages(db)));

  console.log(`bench:web — ${USERS} concurrent users, ${SECONDS} s per page, demo city; server time (request in → page rendered)`);
  console.log('page               requests   p50 ms   p95 ms   max ms   non-2xx  API CPU ms/page  goal p95 ≤ 100 ms');
  let allMet = true;
  for (const [name, path, who] of pages) {
    current = name;
    let n = 0;
    const cpu = process.cpuUsage();
    const result = await autocannon({
      url, connections: USERS, duration: SECONDS,
      requests: [{ method: 'GET', setupRequest: (req) => { const u = (who ?? users)[n++ % USERS]!; return { ...req, path: path(u), headers: { cookie: u.cookie } }; } }],
    });
    const t = times.get(name) ?? [];
    const p95 = percentile(t, 95);
    const used = process.cpuUsage(cpu);
    // The API process's own CPU per page (Postgres and the client excluded): what a busy machine's queueing does not inflate.
    const cpuMs = (used.user + used.system) / 1000 / Math.max(1, result.requests.total);
    allMet &&= p95 <= GOAL_MS;
    console.log(`${name.padEnd(18)} ${String(t.length).padStart(8)} ${percentile(t, 50).toFixed(1).padStart(8)} ${p95.toFixed(1).padStart(8)} ${Math.max(...t).toFixed(1).padStart(8)} ${String(result.non2xx).padStart(9)} ${cpuMs.toFixed(1).padStart(16)}  ${p95 <= GOAL_MS ? 'met' : 'MISSED'}`);
  }
  const [load1] = (await import('node:os')).loadavg();
  console.log(allMet ? 'every page met the goal' : 'some pages missed the goal');
  if (refusals.size) console.log('answers that were not pages:', Object.fromEntries(refusals));
  console.log(`machine load average (1 min) at the end: ${load1!.toFixed(1)} on ${(await import('node:os')).cpus().length} cores`);
  server.close();
  await temporal.connection.close();
  await db.destroy();
  await stack.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
