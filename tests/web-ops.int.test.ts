/**
 * The ops board in a real browser against the real engine on a Temporal dev server with its UI: the summary with
 * breached referrals and critical values, the rollout board (pilots and waves, each clinic's stage), pausing and
 * resuming the program (the workflow's own state asserted), and following a link into the Temporal UI to the right
 * workflow; other roles are refused.
 */
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Page } from 'playwright-core';
import type { Caller } from '../api/auth';
import { demoId } from '../db/seed';
import { PROJECT_ROOT } from '../platform/config';
import { ru } from '../web/i18n/ru';
import { rolloutStateQuery } from '../workflows/rollout';
import { ensureTemporalCli, freePort, startTemporalDevServer, type RunningTemporal } from '../local-stack/stack';
import { makeClinic } from './fixtures';
import { eventually, jsonRequest } from './helpers';
import { startWebHarness, tabTo, type WebHarness } from './web/harness';

jest.setTimeout(240_000);
let temporal: RunningTemporal;
let h: WebHarness;
beforeAll(async () => {
  // Before the dev server's client makes the runtime: worker logs at ERROR only, as in every engine's tests.
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    /* installed by an earlier file in this worker */
  }
  const executable = await ensureTemporalCli(path.join(PROJECT_ROOT, '.tools'), () => undefined, process.env.TEMPORAL_CLI_PATH);
  temporal = await startTemporalDevServer({ executable, uiPort: await freePort() });
  h = await startWebHarness({ TEMPORAL_ADDRESS: temporal.address, TEMPORAL_UI_URL: temporal.uiUrl! });
});
afterAll(async () => {
  await h?.stop();
  await temporal?.stop();
});

const OPS: Caller = { id: 'ops-board', role: 'ops' };

async function opsPage(caller: Caller = OPS): Promise<Page> {
  const context = await h.newContext('tablet');
  await h.signInAs(context, caller);
  return context.newPage();
}

/** Every Temporal UI link on the page names its workflow under the configured UI, namespace `default`. */
async function assertLinks(page: Page): Promise<Array<{ href: string; id: string }>> {
  const links = await page.$$eval('a.temporal', (els) =>
    els.map((e) => ({ href: e.getAttribute('href')!, id: e.getAttribute('data-workflow-id')! })),
  );
  for (const l of links) expect(l.href).toBe(`${temporal.uiUrl}/namespaces/default/workflows/${encodeURIComponent(l.id)}`);
  return links;
}

describe('the ops board', () => {
  test("the summary lists breached referrals and critical values, each with its workflow's Temporal UI link", async () => {
    const page = await opsPage();
    await page.goto('/');
    await page.click('main a[href="/ops"]');
    await page.waitForURL((u) => u.pathname === '/ops');
    expect(await page.textContent('h1')).toBe(ru.ops.summaryTitle);
    // The demo city's referral 4 (30 days old, never booked) is past its deadline.
    const breached = demoId('referral:4');
    expect(await page.$(`tr[data-referral="${breached}"]`)).not.toBeNull();
    const links = await assertLinks(page);
    expect(links.map((l) => l.id)).toContain(`referral-${breached}`);
    // No patient data on the ops board.
    const names = await h.engine.db
      .selectFrom('patients')
      .select('full_name')
      .where('id', '=', demoId('patient:24'))
      .executeTakeFirstOrThrow();
    expect(await page.textContent('main')).not.toContain(names.full_name);
    expect(await h.screen(page, 'ops-summary')).toEqual([]);
    // Any referral by id: straight to its workflow.
    const res = await page.request.get(`/ops/process?kind=referral&id=${breached}`, { maxRedirects: 0 });
    expect(res.status()).toBe(302);
    expect(res.headers().location).toBe(`${temporal.uiUrl}/namespaces/default/workflows/referral-${breached}`);
    expect((await page.request.get(`/ops/process?kind=order&id=${breached}`, { maxRedirects: 0 })).status()).toBe(404);
    await page.context().close();
  });

  test('opens the rollout board, pauses and resumes the program, and follows a link into the Temporal UI to its workflow', async () => {
    const [p1, p2, w1, w2] = await Promise.all([0, 1, 2, 3].map(() => makeClinic(h.engine.db)));
    // Clinics still to onboard: their onboarding waits on people's tasks, so the program runs while the test does.
    await h.engine.db
      .updateTable('clinics')
      .set({ rollout_stage: 'preparation' })
      .where(
        'id',
        'in',
        [p1!, p2!, w1!, w2!].map((c) => c.clinicId),
      )
      .execute();
    const admin = await h.engine.token('admin');
    const init = jsonRequest('POST', admin, {
      name: 'Board test',
      pilotClinicIds: [p1!.clinicId, p2!.clinicId],
      clinicIds: [w1!.clinicId, w2!.clinicId],
      policy: { maxConcurrent: 1 },
    });
    const started = await h.engine.app.request('/rollout-programs', init);
    expect(started.status).toBe(201);
    const { programId, workflowId } = (await started.json()) as { programId: string; workflowId: string };
    const handle = h.engine.client.workflow.getHandle(workflowId);
    await eventually(
      // The outbox relay starts the program behind the 201: until then there is nothing to query.
      async () =>
        Object.values((await handle.query(rolloutStateQuery).catch(() => undefined))?.clinics ?? {}).some((c) => c.stage !== 'queued'),
      30_000,
      'pilots started',
    );

    const page = await opsPage();
    await page.goto(`/ops/rollout/${programId}`);
    expect(await page.textContent('h1')).toContain('Board test');
    expect(await page.getAttribute(`[data-program="${programId}"]`, 'data-paused')).toBe('false');
    // Pilots first, then one wave per clinic (maxConcurrent 1).
    const waves = await page.$$eval('table.board', (ts) =>
      ts.map((t) => [...t.querySelectorAll('tbody tr')].map((r) => r.getAttribute('data-clinic'))),
    );
    expect(waves).toEqual([[p1!.clinicId, p2!.clinicId], [w1!.clinicId], [w2!.clinicId]]);
    expect(await page.getAttribute(`tr[data-clinic="${w2!.clinicId}"]`, 'data-stage')).toBe('queued');
    expect(await h.screen(page, 'ops-rollout')).toEqual([]);

    // Pause by keyboard: the button is reachable by Tab.
    await page.focus('h1');
    await tabTo(page, (el) => el.tag === 'button' && el.text === ru.ops.pause);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`[data-program="${programId}"][data-paused="true"]`);
    expect(await page.textContent('.alert.notice')).toBe(ru.ops.pausedNotice);
    expect((await handle.query(rolloutStateQuery)).paused).toBe(true);
    expect(await h.screen(page, 'ops-rollout-paused')).toEqual([]);

    await page.click(`form.actions button:has-text("${ru.ops.resume}")`);
    await page.waitForSelector(`[data-program="${programId}"][data-paused="false"]`);
    expect(await page.textContent('.alert.notice')).toBe(ru.ops.resumedNotice);
    expect((await handle.query(rolloutStateQuery)).paused).toBe(false);
    const history = await handle.fetchHistory();
    const signals = history
      .events!.filter((e) => e.workflowExecutionSignaledEventAttributes)
      .map((e) => e.workflowExecutionSignaledEventAttributes!.signalName);
    expect(signals.filter((s) => s === 'pauseProgram' || s === 'resumeProgram')).toEqual(['pauseProgram', 'resumeProgram']);

    const links = await assertLinks(page);
    expect(links.map((l) => l.id)).toEqual(expect.arrayContaining([workflowId, `onboarding-${p1!.clinicId}`]));
    const [ui] = await Promise.all([page.context().waitForEvent('page'), page.click(`a.temporal[data-workflow-id="${workflowId}"]`)]);
    await ui.waitForLoadState('load');
    expect(ui.url()).toContain(`/namespaces/default/workflows/${workflowId}`);
    await eventually(async () => (await ui.innerText('body')).includes(workflowId), 60_000, 'the workflow in the Temporal UI');
    await ui.screenshot({ path: path.join(PROJECT_ROOT, 'artifacts', 'screenshots', 'ops-temporal-ui.png') });
    await page.context().close();
  });

  test('a registrar and a doctor are refused the ops board', async () => {
    const clinic = await makeClinic(h.engine.db);
    for (const caller of [
      { id: 'ops-registrar', role: 'registrar', clinicId: clinic.clinicId, clinicIds: [clinic.clinicId] },
      { id: 'ops-doctor', role: 'doctor', practitionerId: clinic.practitionerId },
    ] as Caller[]) {
      const page = await opsPage(caller);
      for (const url of ['/ops', '/ops/rollout']) {
        const res = await page.goto(url);
        expect(res?.status()).toBe(403);
        expect(await page.textContent('h1')).toBe(ru.forbiddenTitle);
      }
      expect(await h.screen(page, `ops-forbidden-${caller.role}`)).toEqual([]);
      await page.context().close();
    }
  });
});
