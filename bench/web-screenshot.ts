/**
 * Makes docs/screenshots/patient.png: the demo patient's appointments on a 360 px phone, on a
 * throwaway stack seeded with the demo city (bench/stack.ts). Run by hand after a visible change:
 * `node --import tsx bench/web-screenshot.ts`.
 */
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { chromium } from 'playwright-core';
import { createApp } from '../api/app';
import { createDb } from '../db';
import { DEMO_TIME_ZONE, demoId } from '../db/seed';
import { createWebSession } from '../db/web-sessions';
import { addDays, localToday } from '../domain/time';
import { parseConfig, PROJECT_ROOT } from '../platform/config';
import { createLogger } from '../platform/logger';
import { connectClient } from '../platform/temporal';
import { startBenchStack } from './stack';

async function main() {
  const stack = await startBenchStack();
  const config = parseConfig({ ...process.env, NODE_ENV: 'test', WEB_DEMO_SIGN_IN: 'on' });
  const db = createDb(config.DATABASE_URL!, 4);
  const temporal = await connectClient(config);
  const app = createApp({ config, db, temporal, logger: createLogger('shot', 'silent') });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const id = randomBytes(32).toString('base64url');
  await createWebSession(db, {
    idHash: createHash('sha256').update(id).digest('hex'),
    caller: { id: 'demo-patient', role: 'patient', patientId: demoId('patient:0') },
    csrfToken: 'x',
    signedInBy: 'demo',
    ttlSeconds: 600,
  });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 360, height: 640 }, baseURL: url });
  await context.addCookies([{ name: 'sid', value: id, url, httpOnly: true, sameSite: 'Strict' }]);
  const page = await context.newPage();
  const specialties = (await db.selectFrom('practitioners').select('specialty').distinct().orderBy('specialty').execute()).map(
    (r) => r.specialty,
  );
  let booked = 0;
  for (const specialty of specialties) {
    if (booked === 2) break;
    let found = false;
    for (let day = 2 + booked * 3; day < 12 && !found; day++) {
      await page.goto(`/patient/book?specialty=${encodeURIComponent(specialty)}&date=${addDays(localToday(DEMO_TIME_ZONE), day)}`);
      found = (await page.locator('ul.slots li').count()) >= 3;
    }
    if (!found) continue;
    const i = booked++;
    await page.click('ul.slots li:nth-child(3) button');
    await page.waitForURL(/\/patient\/appointments\/[0-9a-f-]{36}$/);
    if (i === 0) {
      await page.click('form[action$="/confirm"] button');
      await page.waitForSelector('.alert.notice');
    }
  }
  await page.goto('/patient/appointments');
  await page.screenshot({ path: path.join(PROJECT_ROOT, 'docs/screenshots/patient.png') });
  await browser.close();
  server.close();
  await temporal.connection.close();
  await db.destroy();
  await stack.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
