/**
 * The Temporal UI in a real browser (Debian's chromium, driven by playwright-core): a dev server
 * whose UI decodes through our API's /codec (the embedded start's loopback default) shows a
 * booking's slot id; a UI without the codec shows only ciphertext.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApp } from '../api/app';
import { mintToken } from '../api/auth';
import { createDb, type Db } from '../db';
import { DEFAULT_BOOKING_POLICY } from '../domain/booking';
import { PROJECT_ROOT, type Config } from '../platform/config';
import { createLogger } from '../platform/logger';
import { connectClient, dataConverter } from '../platform/temporal';
import { createClinicalWorker } from '../workers/clinical';
import { startWorkerRelay, type OutboxRelay } from '../workers/outbox-relay';
import { ensureTemporalCli, freePort, startTemporalDevServer, type RunningTemporal } from '../local-stack/stack';
import { daysFromNow, makeClinic, makePatient, makeSlot } from './fixtures';
import { eventually, jsonRequest, processStarted, testConfig } from './helpers';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
jest.setTimeout(180_000);

let withCodec: RunningTemporal;
let withoutCodec: RunningTemporal;
let uiPort: number;
let config: Config;
let db: Db;
let client: Client;
let connection: NativeConnection;
let worker: Worker;
let relay: OutboxRelay | undefined;
let running: Promise<void>;
let api: ServerType;
let browser: Browser;

beforeAll(async () => {
  const executable = await ensureTemporalCli(path.join(PROJECT_ROOT, '.tools'), () => undefined, process.env.TEMPORAL_CLI_PATH);
  const [apiPort, ui1, ui2] = [await freePort(), await freePort(), await freePort()];
  uiPort = ui1;
  [withCodec, withoutCodec] = await Promise.all([
    startTemporalDevServer({ executable, uiPort: ui1, uiCodecEndpoint: `http://127.0.0.1:${apiPort}/codec` }),
    startTemporalDevServer({ executable, uiPort: ui2 }),
  ]);
  config = testConfig({
    TEMPORAL_ADDRESS: withCodec.address,
    CLINICAL_TASK_QUEUE: `clinical-ui-${randomUUID().slice(0, 8)}`,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    CODEC_LOOPBACK_OPEN: 'true',
    CORS_ORIGINS: `http://127.0.0.1:${ui1},http://localhost:${ui1}`,
  });
  db = createDb(process.env.DATABASE_URL!, 3);
  client = await connectClient(config);
  connection = await NativeConnection.connect({ address: withCodec.address });
  worker = await createClinicalWorker({ connection, config, db, workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! } });
  running = worker.run();
  // The clinical worker's outbox relay starts the processes of what the API wrote, as npm start runs it.
  relay = startWorkerRelay({ connection, config, db, databaseUrl: process.env.DATABASE_URL!, logger: createLogger('test', 'silent') });
  const app = createApp({ config, db, temporal: client, logger: createLogger('test', 'silent') });
  api = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: apiPort }, () => resolve(s));
  });
  (globalThis as { uiApp?: typeof app }).uiApp = app;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  api?.close();
  await relay?.stop();
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running?.catch(() => undefined);
  await connection?.close();
  await client?.connection.close();
  await db?.destroy();
  await Promise.all([withCodec?.stop(), withoutCodec?.stop()]);
});

/**
 * The page's text once `wanted` shows up or the wait runs out: a booking's slot id travels in the
 * holdSlot update, so the update's event row is opened.
 */
async function pageText(page: Page, wanted: string): Promise<string> {
  let text = '';
  let opened = false;
  await eventually(
    async () => {
      text = await page.innerText('body');
      if (text.includes(wanted)) return true;
      if (!opened)
        opened = await page
          .getByText('Workflow Execution Update Accepted')
          .first()
          .click({ timeout: 2000 })
          .then(
            () => true,
            () => false,
          );
      await page.waitForTimeout(500);
      text = await page.innerText('body');
      return text.includes(wanted);
    },
    30_000,
    'the value in the page',
  ).catch(() => undefined);
  return text;
}

describe('the Temporal UI shows decoded payloads to ops', () => {
  test("a booking's history in the UI wired to the API's codec shows the decoded slot id", async () => {
    expect(existsSync(CHROMIUM)).toBe(true);
    const clinic = await makeClinic(db);
    const patientId = await makePatient(db);
    const slot = await makeSlot(db, clinic, daysFromNow(3));
    const app = (globalThis as { uiApp?: ReturnType<typeof createApp> }).uiApp!;
    const token = await mintToken(config.AUTH_SECRET, { id: 'ui-registrar', role: 'registrar', clinicIds: [clinic.clinicId] });
    const init = jsonRequest('POST', token, { slotId: slot.id, patientId });
    (init.headers as Record<string, string>)['idempotency-key'] = `ui-${randomUUID()}`;
    const booked = await app.request('/appointments', init);
    expect(booked.status).toBe(201);
    const { id } = (await booked.json()) as { id: string };
    const workflowId = `booking-${id}`;
    await processStarted(db, id);

    const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
    await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/${workflowId}`, { waitUntil: 'load', timeout: 60_000 });
    const text = await pageText(page, slot.id);
    await page.screenshot({ path: '/tmp/ui-codec-decoded.png', fullPage: true });
    expect(text).toContain(slot.id);
    await page.close();
  });

  test('the same kind of history in a UI without the codec shows ciphertext and no slot id', async () => {
    const slotId = randomUUID();
    const plain = new Client({
      connection: await Connection.connect({ address: withoutCodec.address }),
      dataConverter: dataConverter(config),
    });
    const workflowId = `booking-${randomUUID()}`;
    // No worker polls this server: the history holds the started event with its encrypted input.
    await plain.workflow.start('bookingWorkflow', {
      workflowId,
      taskQueue: 'nobody-polls',
      args: [
        {
          appointmentId: randomUUID(),
          patientId: randomUUID(),
          clinicId: randomUUID(),
          policy: DEFAULT_BOOKING_POLICY,
          offered: {
            appointmentId: randomUUID(),
            status: 'held',
            slotId,
            patientId: randomUUID(),
            practitionerId: randomUUID(),
            clinicId: randomUUID(),
            startsAt: new Date().toISOString(),
            endsAt: new Date().toISOString(),
            holdExpiresAt: null,
          },
        },
      ],
    });
    await plain.connection.close();

    const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
    await page.goto(`${withoutCodec.uiUrl}/namespaces/default/workflows/${workflowId}`, { waitUntil: 'load', timeout: 60_000 });
    // The UI shows the payload as proto JSON: metadata and data in base64, the encoding included.
    const encrypted = Buffer.from('binary/encrypted').toString('base64');
    const text = await pageText(page, encrypted);
    await page.screenshot({ path: '/tmp/ui-codec-encrypted.png', fullPage: true });
    expect(text).toContain(encrypted);
    expect(text).not.toContain(slotId);
    await page.close();
  });
});
