/**
 * The doctor's visit page in a real browser against the real engine and the real ONNX model: today's
 * visits, complaints typed and three titled suggestions shown without a reload, one chosen (by
 * keyboard), the visit completed with it and counted in the monitoring; a too-short text, a code
 * outside ICD-10, HTML typed into the box, a visit not yet arrived, and another doctor's visit.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Caller } from '../api/auth';
import { PROJECT_ROOT } from '../platform/config';
import { ru } from '../web/i18n/ru';
import { makeClinic, makePatient, makeSlot, type TestClinic } from './fixtures';
import { eventually, jsonRequest } from './helpers';
import { startWebHarness, tabTo, type WebHarness } from './web/harness';

jest.setTimeout(240_000);
let h: WebHarness;
beforeAll(async () => {
  h = await startWebHarness({ CDS_DIAGNOSIS_SUGGESTIONS: 'on' });
});
afterAll(async () => {
  await h?.stop();
});

type Json = Record<string, any>;
const MODELS = path.join(PROJECT_ROOT, 'models');
const meta = JSON.parse(readFileSync(path.join(MODELS, 'diagnosis-suggestions.json'), 'utf8')) as {
  labels: Array<{ code: string; title: string }>;
};
const parity = JSON.parse(readFileSync(path.join(MODELS, 'golden', 'diagnosis-suggestions-parity.json'), 'utf8')) as {
  cases: Array<{ text: string; sklearn: number[] }>;
};
/** A real complaints text of the dev split (models/data/rumedtop3/dev_v1.jsonl): the one the model is surest about. */
const devText = parity.cases.reduce((a, b) => (Math.max(...b.sklearn) > Math.max(...a.sklearn) ? b : a)).text;
const titleOf = (code: string) => meta.labels.find((l) => l.code === code)!.title;

async function call(method: string, url: string, token: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const init = jsonRequest(method, token, body);
  (init.headers as Record<string, string>)['idempotency-key'] = `visit-${randomUUID()}`;
  const res = await h.engine.app.request(url, init);
  return { status: res.status, body: (await res.json()) as Json };
}

/** A confirmed visit starting in a minute; checked in by the registrar (JSON API) when `arrived`. */
async function visit(clinic: TestClinic, arrived: boolean): Promise<string> {
  const patientId = await makePatient(h.engine.db);
  const registrar = await h.engine.token('registrar', { clinicId: clinic.clinicId });
  const slot = await makeSlot(h.engine.db, clinic, 60, 30);
  const booked = await call('POST', '/appointments', registrar, { slotId: slot.id, patientId, confirm: true });
  expect(booked.status).toBe(201);
  const id = booked.body.id as string;
  if (arrived) {
    expect((await call('POST', `/appointments/${id}/check-in`, registrar)).status).toBe(202);
    await eventually(async () => (await statusOf(id)) === 'arrived', 30_000, 'arrived');
  }
  return id;
}
const statusOf = async (id: string) =>
  (await h.engine.db.selectFrom('appointments').select('status').where('id', '=', id).executeTakeFirst())?.status;
const suggestionRows = (appointmentId: string) =>
  h.engine.db
    .selectFrom('diagnosis_suggestions')
    .selectAll()
    .where('appointment_id', '=', appointmentId)
    .orderBy('created_at', 'desc')
    .execute();
const doctorOf = (clinic: TestClinic, practitionerId = clinic.practitionerId): Caller => ({
  id: `doctor-${practitionerId.slice(0, 8)}`,
  role: 'doctor',
  practitionerId,
  clinicId: clinic.clinicId,
  clinicIds: [clinic.clinicId],
});

async function doctorPage(caller: Caller): Promise<Page> {
  const context = await h.newContext('tablet');
  await h.signInAs(context, caller);
  return context.newPage();
}

describe("the doctor's visit page", () => {
  // A clinic per test: each visit takes its doctor's next half hour.
  let clinic: TestClinic;
  beforeEach(async () => {
    clinic = await makeClinic(h.engine.db);
  });

  test('types complaints, sees three titled suggestions without a reload, picks one, completes the visit; it is counted', async () => {
    const id = await visit(clinic, true);
    const page = await doctorPage(doctorOf(clinic));
    await page.goto('/');
    await page.click('main a[href="/doctor"]');
    await page.waitForURL((u) => u.pathname === '/doctor');
    expect(await page.textContent(`[data-appointment="${id}"]`)).toContain('Test Patient');
    expect(await h.screen(page, 'doctor-day')).toEqual([]);

    await page.click(`[data-appointment="${id}"] a`);
    await page.waitForURL((u) => u.pathname === `/doctor/visits/${id}`);
    expect(await page.textContent('main')).toContain('Test Patient');
    expect(await page.textContent('main')).toContain('Europe/Moscow');
    expect(await h.screen(page, 'doctor-visit')).toEqual([]);

    // A marker on the window survives only if the page is never reloaded.
    await page.evaluate('window.__sameDocument = true');
    await page.fill('#complaints', devText.slice(0, -6));
    await page.locator('#complaints').pressSequentially(devText.slice(-6), { delay: 40 });
    await page.waitForSelector('ol.suggestions li');
    expect(await page.evaluate<boolean>('window.__sameDocument === true')).toBe(true);
    const shown = await page.$$eval('button[data-fill-code]', (els) =>
      els.map((e) => ({ code: e.getAttribute('data-fill-code')!, text: e.textContent ?? '' })),
    );
    expect(shown).toHaveLength(3);
    for (const s of shown) {
      expect(s.text).toContain(titleOf(s.code));
      expect(s.text).toMatch(/вероятность (высокая|средняя|низкая)/);
    }
    expect(await page.textContent('#suggestions')).toContain('Подсказка, а не диагноз');
    const rows = await suggestionRows(id);
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows[0]).toMatchObject({ text: devText, codes: shown.map((s) => s.code), requested_by: doctorOf(clinic).id });
    expect(await h.screen(page, 'doctor-visit-suggestions')).toEqual([]);

    // A code outside ICD-10 is refused at its field, and nothing is stored.
    await page.fill('#diagnosisCode', 'Q99.99');
    await page.click('form.visit button[type="submit"]:not([formaction])');
    await page.waitForSelector('#diagnosisCode[aria-invalid="true"]');
    expect(await page.textContent('#code-error')).toBe(ru.errors.invalid_icd10);
    expect(await page.inputValue('#complaints')).toBe(devText);
    expect(await h.engine.db.selectFrom('visit_diagnoses').selectAll().where('appointment_id', '=', id).executeTakeFirst()).toBeUndefined();
    expect(await h.screen(page, 'doctor-visit-invalid-code')).toEqual([]);

    // Back to the suggestions; the second is chosen by keyboard alone.
    await page.locator('#complaints').press('End');
    await page.locator('#complaints').pressSequentially(' ', { delay: 40 });
    await page.waitForSelector('ol.suggestions li');
    const second = (await page.getAttribute('ol.suggestions li:nth-child(2) button', 'data-fill-code'))!;
    await page.focus('#complaints');
    await tabTo(page, (el) => el.tag === 'button' && el.text.includes(titleOf(second)));
    await page.keyboard.press('Enter');
    expect(await page.inputValue('#diagnosisCode')).toBe(second);
    await page.click('form.visit button[type="submit"]:not([formaction])');
    await page.waitForSelector('.diagnosis');
    expect(await page.textContent('.diagnosis')).toBe(ru.diagnosisRecorded(second, titleOf(second)));
    expect(await page.textContent('.alert.notice')).toBe(ru.visitCompleted);

    const latest = (await suggestionRows(id))[0]!;
    const stored = await h.engine.db.selectFrom('visit_diagnoses').selectAll().where('appointment_id', '=', id).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ code: second, suggestion_id: latest.id, in_top1: false, in_top3: true, clinic_id: clinic.clinicId });
    await eventually(async () => (await statusOf(id)) === 'fulfilled', 30_000, 'fulfilled');
    const summary = await call('GET', '/ops/summary', await h.engine.token('ops'));
    expect(summary.status).toBe(200);
    const counted = (summary.body.diagnosisSuggestions.byClinic as Json[]).find((c) => c.clinicId === clinic.clinicId);
    expect(counted).toMatchObject({ evaluated: 1, hit1: 0, hit3: 1 });
    await page.reload();
    expect(await page.$('form.visit')).toBeNull();
    expect(await h.screen(page, 'doctor-visit-completed')).toEqual([]);
    await page.context().close();
  });

  test('a too-short text is refused at the field with nothing stored; HTML stays text; a visit not arrived cannot be completed', async () => {
    const id = await visit(clinic, false);
    const page = await doctorPage(doctorOf(clinic));
    await page.goto(`/doctor/visits/${id}`);
    await page.locator('#complaints').pressSequentially('кашель', { delay: 40 });
    await page.waitForFunction(`document.getElementById('complaints-error').textContent.length > 0`);
    expect(await page.textContent('#complaints-error')).toBe(ru.errors.text_too_short);
    expect(await page.getAttribute('#complaints', 'aria-describedby')).toContain('complaints-error');
    expect(await suggestionRows(id)).toHaveLength(0);
    expect(await h.screen(page, 'doctor-visit-too-short')).toEqual([]);

    const html = '<b>Кашель</b> с мокротой <img src=x onerror="window.__injected=1"> температура 38 <script>window.__injected=1</script>';
    await page.fill('#complaints', html);
    await page.waitForSelector('#suggestions [data-suggestion-id], #suggestions [data-low-confidence]');
    expect(await page.textContent('#complaints-error')).toBe('');
    expect(await page.evaluate<boolean>('window.__injected === undefined && !document.querySelector("main b, main img")')).toBe(true);
    expect((await suggestionRows(id))[0]!.text).toBe(html);

    // Nothing like the training texts: the page says the model is not sure instead of ranking noise.
    await page.fill('#complaints', 'ааа 123 456 789 000');
    await page.waitForSelector('#suggestions [data-low-confidence]');
    expect(await page.textContent('#suggestions')).toContain(ru.lowConfidence);
    expect(await page.$('ol.suggestions')).toBeNull();
    expect((await suggestionRows(id))[0]).toMatchObject({ low_confidence: true });

    await page.fill('#complaints', html);
    await page.fill('#diagnosisCode', 'J06.9');
    await page.click('form.visit button[type="submit"]:not([formaction])');
    await page.waitForSelector('.alert.error');
    expect(await page.textContent('.alert.error')).toBe(ru.completeNotArrived);
    // The form came back with the text as text: the box holds exactly what was typed, and nothing of it ran.
    expect(await page.inputValue('#complaints')).toBe(html);
    expect(await page.evaluate<boolean>('window.__injected === undefined && !document.querySelector("main b, main img")')).toBe(true);
    expect(await statusOf(id)).toBe('booked');
    expect(await h.engine.db.selectFrom('visit_diagnoses').selectAll().where('appointment_id', '=', id).executeTakeFirst()).toBeUndefined();
    expect(await h.screen(page, 'doctor-visit-not-arrived')).toEqual([]);
    await page.context().close();
  });

  test('works without JavaScript, in English: the suggest button posts the form and the page comes back with the text and suggestions', async () => {
    const id = await visit(clinic, true);
    const context = await h.newContext('tablet', { javaScriptEnabled: false });
    await h.signInAs(context, doctorOf(clinic));
    await context.addCookies([{ name: 'lang', value: 'en', url: h.baseUrl }]);
    const page = await context.newPage();
    await page.goto(`/doctor/visits/${id}`);
    await page.fill('#complaints', devText);
    await page.click('button[formaction$="/suggestions"]');
    await page.waitForSelector('ol.suggestions li');
    expect(await page.inputValue('#complaints')).toBe(devText);
    expect(await page.$$('button[data-fill-code]')).toHaveLength(3);
    expect(await page.textContent('#suggestions')).toContain('A suggestion, not a diagnosis');
    expect(await h.screen(page, 'doctor-visit-no-js-en')).toEqual([]);
    const code = (await page.getAttribute('button[data-fill-code]', 'data-fill-code'))!;
    await page.fill('#diagnosisCode', code.toLowerCase());
    await page.click('form.visit button[type="submit"]:not([formaction])');
    await page.waitForSelector('.diagnosis');
    const stored = await h.engine.db
      .selectFrom('visit_diagnoses')
      .select(['code', 'in_top1'])
      .where('appointment_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ code, in_top1: true });
    await context.close();
  });

  test("another doctor's visit id in the URL is refused with a 403 page, and nothing is stored through it", async () => {
    const id = await visit(clinic, true);
    const page = await doctorPage(doctorOf(clinic, clinic.otherPractitionerId));
    const res = await page.goto(`/doctor/visits/${id}`);
    expect(res?.status()).toBe(403);
    expect(await page.textContent('h1')).toBe(ru.forbiddenTitle);
    expect(await page.$('#complaints')).toBeNull();
    expect(await h.screen(page, 'doctor-visit-forbidden')).toEqual([]);
    // Not through the fragment route either (with the page's own CSRF token).
    await page.goto('/doctor');
    const status =
      await page.evaluate<number>(`fetch('/doctor/visits/${id}/suggestions', { method: 'POST', headers: { 'hx-request': 'true', 'x-csrf-token':
      JSON.parse(document.body.getAttribute('hx-headers'))['x-csrf-token'], 'content-type': 'application/x-www-form-urlencoded' },
      body: 'text=' + encodeURIComponent(${JSON.stringify(devText)}) }).then((r) => r.status)`);
    expect(status).toBe(403);
    expect(await suggestionRows(id)).toHaveLength(0);
    await page.context().close();
  });
});
