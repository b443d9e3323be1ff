/**
 * `node --import tsx bench/web-trace.ts`: where one staff page's time goes. On a throwaway stack (as bench:web), each
 * staff page is requested a few times alone and the last request's SQL is printed: each statement with its time, the
 * count, and the page's whole time, so an N+1 or a slow statement shows by name. BENCH_WEB_ONLY as in bench:web.
 * STACK_ENV='<json>' uses a stack already running (the JSON line tests/test-stack.ts prints).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createApp } from '../api/app';
import type { Caller } from '../api/auth';
import { createDb } from '../db';
import type { Database } from '../db/schema';
import { demoId } from '../db/seed';
import { createWebSession } from '../db/web-sessions';
import { parseConfig } from '../platform/config';
import { createLogger } from '../platform/logger';
import { connectClient } from '../platform/temporal';
import { DEMO_PROGRAM_ID, ensureDemoRollout } from '../workers/demo-rollout';
import { seedDeskArrivals } from '../workers/desk-demo';
import { startBenchStack } from './stack';

async function main() {
  const stack = process.env.STACK_ENV ? undefined : await startBenchStack();
  if (process.env.STACK_ENV) Object.assign(process.env, JSON.parse(process.env.STACK_ENV), { NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  const config = parseConfig({ ...process.env, NODE_ENV: 'test', WEB_DEMO_SIGN_IN: 'on' });
  createDb(config.DATABASE_URL!, 1); // sets the type parsers
  let trace: { sql: string; ms: number }[] | undefined;
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: config.DATABASE_URL!, max: 10 }) }),
    log: (e) => {
      trace?.push({ sql: e.query.sql.replace(/\s+/g, ' ').slice(0, 160), ms: e.queryDurationMillis });
    },
  });
  const temporal = await connectClient(config);
  const app = createApp({ config, db, temporal, logger: createLogger('bench', 'silent') });
  await ensureDemoRollout(temporal, db, config.CLINICAL_TASK_QUEUE);
  await seedDeskArrivals({ client: temporal, db, taskQueue: config.CLINICAL_TASK_QUEUE });
  const session = async (caller: Caller) => {
    const id = randomBytes(32).toString('base64url');
    const idHash = createHash('sha256').update(id).digest('hex');
    await createWebSession(db, { idHash, caller, csrfToken: 'x', signedInBy: 'bench', ttlSeconds: 3600 });
    return `sid=${id}`;
  };
  const clinicId = demoId('clinic:PC-01');
  const practitionerId = demoId('practitioner:PC-01:0');
  const registrar = await session({ id: 'trace-registrar', role: 'registrar', clinicId, clinicIds: [clinicId] });
  const ops = await session({ id: 'trace-ops', role: 'ops' });
  const lab = await session({ id: 'trace-lab', role: 'lab', clinicId, clinicIds: [clinicId] });
  const doctor = await session({ id: 'trace-doctor', role: 'doctor', practitionerId });
  const referral = await db.selectFrom('referrals').select('id').where('referring_practitioner_id', '=', practitionerId).executeTakeFirst();
  const pages: [string, string, string][] = [
    ['desk today', '/desk', registrar],
    ['desk find', '/desk?name=orl', registrar],
    ['desk referrals', '/desk/referrals', registrar],
    ['desk day', '/desk/day', registrar],
    ['desk leave', '/desk/leave', registrar],
    ['lab worklist', '/lab', lab],
    ['lab unmatched', '/lab/unmatched', lab],
    ['lab critical', '/lab/critical', lab],
    ['lab messages', '/lab/messages', lab],
    ['doctor today', '/doctor', doctor],
    ['doctor inbox', '/doctor/inbox', doctor],
    ['doctor record', `/doctor/patients/${demoId('patient:0')}`, doctor],
    ['doctor referral', `/doctor/referrals/${referral?.id}`, doctor],
    ['ops summary', '/ops', ops],
    ['ops board', `/ops/rollout/${DEMO_PROGRAM_ID}`, ops],
  ];
  const only = process.env.BENCH_WEB_ONLY?.split(',').filter(Boolean);
  for (const [name, path, cookie] of pages.filter(([n]) => !only || only.some((o) => n.startsWith(o)))) {
    let ms = 0;
    let status = 0;
    for (let i = 0; i < 4; i++) {
      trace = [];
      const started = performance.now();
      const res = await app.request(path, { headers: { cookie } });
      await res.text();
      ms = performance.now() - started;
      status = res.status;
    }
    const sqlMs = trace!.reduce((s, q) => s + q.ms, 0);
    console.log(`\n== ${name} ${path}: ${status}, ${ms.toFixed(1)} ms, ${trace!.length} statements, ${sqlMs.toFixed(1)} ms in SQL`);
    for (const q of trace!) console.log(`  ${q.ms.toFixed(1).padStart(7)}  ${q.sql}`);
  }
  trace = undefined;
  await temporal.connection.close();
  await db.destroy();
  await stack?.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
