/**
 * `npm run bench:web`: server time per page at 16 concurrent users on the demo city. A throwaway
 * stack (bench/stack.ts: embedded Postgres seeded with the demo city, a Temporal dev server), the
 * API app with its pages on a real socket, 16 signed-in patients (and registrars of PC-01, and ops for the staff
 * pages; lab users and the demo doctor in bench/web-lab-doctor.ts, with a clinical worker for the rollout board's Query), autocannon with 16 connections per page;
 * BENCH_WEB_ONLY=desk,ops (prefixes of the page names) runs some pages only. Server time is measured around the app's fetch (request in, page rendered), so the
 * client's own cost is not in it. Prints p50/p95/max per page, the API's CPU and SQL statements per page, and whether p95 ≤ 100 ms.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { serve } from '@hono/node-server';
import autocannon from 'autocannon';
import { createApp } from '../api/app';
import type { Caller } from '../api/auth';
import { createDb } from '../db';
import { DEMO_TIME_ZONE, demoId } from '../db/seed';
import { createWebSession } from '../db/web-sessions';
import { addDays, localToday } from '../domain/time';
import { parseConfig, PROJECT_ROOT } from '../platform/config';
import { createLogger } from '../platform/logger';
import { connectClient } from '../platform/temporal';
import { DEMO_PROGRAM_ID, ensureDemoRollout } from '../workers/demo-rollout';
import { rolloutStateQuery, rolloutWorkflowId } from '../workflows/rollout';
import { seedDeskArrivals } from '../workers/desk-demo';
import { percentile, startBenchStack } from './stack';
import { labDoctorBenchPages } from './web-lab-doctor';

const USERS = 16;
const SECONDS = Number(process.env.BENCH_WEB_SECONDS ?? 8);
const GOAL_MS = 100;
/** Pages another branch brings: named as absent, not failed, until they exist (none at present). */
const OPTIONAL_PAGES: string[] = [];

async function main() {
  const stack = await startBenchStack();
  const config = parseConfig({ ...process.env, NODE_ENV: 'test', WEB_DEMO_SIGN_IN: 'on' });
  const db = createDb(config.DATABASE_URL!, 10);
  const temporal = await connectClient(config);
  // SQL statements the pages run (BEGIN/COMMIT not counted): the figure a busy machine cannot blur, and where an N+1 shows.
  let statements = 0;
  const counted = db.withPlugin({
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      statements++;
      return args.result;
    },
  });
  const app = createApp({ config, db: counted, temporal, logger: createLogger('bench', 'silent') });
  const times = new Map<string, number[]>();
  let current = '';
  /** Answers that were not pages (page and status → count): a page answering errors fast is not a fast page. */
  const refusals = new Map<string, number>();
  const server = serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: async (req, env) => {
      const started = performance.now();
      const res = await app.fetch(req, env);
      if (res.status < 400) times.set(current, [...(times.get(current) ?? []), performance.now() - started]);
      else if (current) refusals.set(`${current} ${res.status}`, (refusals.get(`${current} ${res.status}`) ?? 0) + 1);
      return res;
    },
  });
  await new Promise((r) => server.once('listening', r));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  // The staff pages read processes too (the rollout board queries its program): a clinical worker in its own process
  // (as npm start runs it, so its work is not in the API's figures), the demo program and today's arrivals.
  const worker = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'workers/clinical.ts')], {
    stdio: 'ignore',
    env: { ...process.env, LOG_LEVEL: 'error' },
  });
  await ensureDemoRollout(temporal, db, config.CLINICAL_TASK_QUEUE);
  await seedDeskArrivals({ client: temporal, db, taskQueue: config.CLINICAL_TASK_QUEUE });
  const program = temporal.workflow.getHandle(rolloutWorkflowId(DEMO_PROGRAM_ID));
  for (
    let i = 0;
    !(await program.query(rolloutStateQuery).then(
      () => true,
      () => false,
    ));
    i++
  ) {
    if (i > 240) throw new Error("the clinical worker did not answer the rollout program's query in 2 minutes");
    await new Promise((r) => setTimeout(r, 500));
  }

  const session = async (caller: Caller) => {
    const id = randomBytes(32).toString('base64url');
    await createWebSession(db, {
      idHash: createHash('sha256').update(id).digest('hex'),
      caller,
      csrfToken: 'x',
      signedInBy: 'bench',
      ttlSeconds: 3600,
    });
    return `sid=${id}`;
  };
  const users = await Promise.all(
    Array.from({ length: USERS }, async (_, i) => {
      const patientId = demoId(`patient:${i}`);
      const clinicId = demoId('clinic:PC-01');
      return {
        cookie: await session({ id: `bench-${i}`, role: 'patient', patientId }),
        patientId,
        registrar: await session({ id: `bench-registrar-${i}`, role: 'registrar', clinicId, clinicIds: [clinicId] }),
        ops: await session({ id: `bench-ops-${i}`, role: 'ops' }),
      };
    }),
  );
  const tomorrow = addDays(localToday(DEMO_TIME_ZONE), 1);
  type User = (typeof users)[number];
  const pages: [string, (u: User) => string, ((u: User) => string)?][] = [
    ['sign-in', () => '/sign-in'],
    ['home', () => '/'],
    ['find a slot', () => `/patient/book?specialty=therapy&date=${tomorrow}`],
    ['my appointments', () => '/patient/appointments'],
    ['my referrals', (u) => `/records/${u.patientId}/referrals`],
    ['my results', (u) => `/records/${u.patientId}/results`],
    ['access log', (u) => `/records/${u.patientId}/access-log`],
    ['desk today', () => '/desk', (u) => u.registrar],
    ['desk find', () => '/desk?name=orl', (u) => u.registrar],
    ['desk book for', () => `/desk/patients/${demoId('patient:8')}/book?date=${tomorrow}`, (u) => u.registrar],
    ['desk referrals', () => '/desk/referrals', (u) => u.registrar],
    ['desk day', () => `/desk/day?date=${tomorrow}`, (u) => u.registrar],
    ['desk leave', () => '/desk/leave', (u) => u.registrar],
    ['ops summary', () => '/ops', (u) => u.ops],
    ['ops board', () => `/ops/rollout/${DEMO_PROGRAM_ID}`, (u) => u.ops],
    ['ops on-call', () => `/ops/roster?clinicId=${demoId('clinic:PC-01')}`, (u) => u.ops],
    ['ops failures', () => '/ops/deliveries', (u) => u.ops],
    ['ops unreachable', () => '/ops/unreachable', (u) => u.ops],
  ];
  const specialty = (await db.selectFrom('practitioners').select('specialty').executeTakeFirstOrThrow()).specialty;
  pages[2] = ['find a slot', () => `/patient/book?specialty=${encodeURIComponent(specialty)}&date=${tomorrow}`];
  // The lab's and doctor's pages sign in their own users (bench/web-lab-doctor.ts): the i-th user's stand-in.
  const standIn = <T>(who: T[], u: User) => who[users.indexOf(u) % who.length]!;
  for (const [name, path, who] of await labDoctorBenchPages(db))
    pages.push([name, (u) => path(standIn(who, u)), (u) => standIn(who, u).cookie]);

  console.log(`bench:web — ${USERS} concurrent users, ${SECONDS} s per page, demo city; server time (request in → page rendered)`);
  console.log('page               requests   p50 ms   p95 ms   max ms   non-2xx  API CPU ms/page  SQL/page  goal p95 ≤ 100 ms');
  let allMet = true;
  const only = process.env.BENCH_WEB_ONLY?.split(',').filter(Boolean);
  for (const [name, path, cookieOf] of pages.filter(([n]) => !only || only.some((o) => n.startsWith(o)))) {
    // One request first: a page that is not there (or refuses its user) is named, not measured.
    current = '';
    const probe = await fetch(url + path(users[0]!), { headers: { cookie: cookieOf ? cookieOf(users[0]!) : users[0]!.cookie } });
    await probe.arrayBuffer();
    if (probe.status !== 200 || !probe.headers.get('content-type')?.startsWith('text/html')) {
      const absent = OPTIONAL_PAGES.includes(name);
      allMet &&= absent;
      console.log(
        `${name.padEnd(18)} answers ${probe.status} ${probe.headers.get('content-type') ?? ''}: ${absent ? 'no such page on this build' : 'NOT A PAGE'}`,
      );
      continue;
    }
    current = name;
    let n = 0;
    const cpu = process.cpuUsage();
    const statementsBefore = statements;
    const result = await autocannon({
      url,
      connections: USERS,
      duration: SECONDS,
      requests: [
        {
          method: 'GET',
          setupRequest: (req) => {
            const u = users[n++ % USERS]!;
            return { ...req, path: path(u), headers: { cookie: cookieOf ? cookieOf(u) : u.cookie } };
          },
        },
      ],
    });
    const t = times.get(name) ?? [];
    const p95 = percentile(t, 95);
    const used = process.cpuUsage(cpu);
    // The API process's own CPU per page (Postgres and the client excluded): what a busy machine's queueing does not inflate.
    const cpuMs = (used.user + used.system) / 1000 / Math.max(1, result.requests.total);
    allMet &&= p95 <= GOAL_MS;
    console.log(
      `${name.padEnd(18)} ${String(t.length).padStart(8)} ${percentile(t, 50).toFixed(1).padStart(8)} ${p95.toFixed(1).padStart(8)} ${Math.max(
        ...t,
      )
        .toFixed(1)
        .padStart(8)} ${String(result.non2xx).padStart(9)} ${cpuMs.toFixed(1).padStart(16)} ${(
        (statements - statementsBefore) /
        Math.max(1, result.requests.total)
      )
        .toFixed(1)
        .padStart(9)}  ${p95 <= GOAL_MS ? 'met' : 'MISSED'}`,
    );
  }
  const [load1] = (await import('node:os')).loadavg();
  console.log(allMet ? 'every page met the goal' : 'some pages missed the goal');
  if (refusals.size) console.log('answers that were not pages:', Object.fromEntries(refusals));
  console.log(`machine load average (1 min) at the end: ${load1!.toFixed(1)} on ${(await import('node:os')).cpus().length} cores`);
  // Requests autocannon left in flight (a board's Query) finish before their connection closes.
  await new Promise((r) => setTimeout(r, 3000));
  server.close();
  await new Promise((r) => {
    worker.once('exit', r);
    worker.kill('SIGTERM');
  });
  await temporal.connection.close();
  await db.destroy();
  await stack.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
