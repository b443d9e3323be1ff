/**
 * The browser harness every screen's test uses: the real engine (the run's Postgres and Temporal,
 * both workers in-process) serving the API and the pages on a real socket, Debian's Chromium
 * through playwright-core at 360 px (phone) and 1024 px (tablet), a screenshot of every screen
 * under artifacts/screenshots (kept by CI), and axe-core run in the page on every screen.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import type { Caller } from '../../api/auth';
import { createWebSession } from '../../db/web-sessions';
import { PROJECT_ROOT } from '../../platform/config';
import { SESSION_COOKIE } from '../../web/session';
import { startTestEngine, type TestEngine } from '../helpers';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(PROJECT_ROOT, 'artifacts', 'screenshots');
export const VIEWPORTS = { phone: { width: 360, height: 780 }, tablet: { width: 1024, height: 768 } } as const;
const AXE = path.join(PROJECT_ROOT, 'node_modules/axe-core/axe.min.js');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

export interface WebHarness {
  engine: TestEngine;
  baseUrl: string;
  browser: Browser;
  /** A fresh browser (no cookies) at a viewport. */
  newContext(viewport?: keyof typeof VIEWPORTS, opts?: BrowserContextOptions): Promise<BrowserContext>;
  /** Signs a browser in as this caller without the demo page (a session row and its cookie). */
  signInAs(context: BrowserContext, caller: Caller): Promise<void>;
  /** Screenshots the screen at both widths and runs axe at each; returns serious and critical violations. */
  screen(page: Page, name: string): Promise<AxeViolation[]>;
  stop(): Promise<void>;
}

export async function startWebHarness(configOverrides: Record<string, string> = {}): Promise<WebHarness> {
  const engine = await startTestEngine({ configOverrides: { WEB_DEMO_SIGN_IN: 'on', ...configOverrides } });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: engine.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const address = server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(SCREENSHOTS, { recursive: true });

  async function axe(page: Page): Promise<AxeViolation[]> {
    // Strings, not functions: the tests compile without the DOM library.
    if (!(await page.evaluate<boolean>('"axe" in window'))) await page.addScriptTag({ path: AXE }).catch(() => undefined);
    if (!(await page.evaluate<boolean>('"axe" in window'))) {
      // A page without JavaScript: its HTML is checked in a page that runs scripts, on the same origin (styles load alike).
      const html = await page.content();
      const helper = await browser.newPage({ viewport: page.viewportSize() ?? VIEWPORTS.phone });
      await helper.goto(`${baseUrl}/static/web.css`);
      await helper.setContent(html.replace(/<script[^>]*><\/script>/g, ''), { waitUntil: 'load' });
      try {
        return await axe(helper);
      } finally {
        await helper.close();
      }
    }
    const result = await page.evaluate<{ violations: AxeViolation[] }>('axe.run()');
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  }

  return {
    engine,
    baseUrl,
    browser,
    newContext: (viewport = 'phone', opts = {}) => browser.newContext({ viewport: VIEWPORTS[viewport], baseURL: baseUrl, ...opts }),
    async signInAs(context, caller) {
      const id = randomBytes(32).toString('base64url');
      await createWebSession(engine.db, {
        idHash: createHash('sha256').update(id).digest('hex'),
        caller,
        csrfToken: randomBytes(24).toString('base64url'),
        signedInBy: 'test',
        ttlSeconds: 3600,
      });
      await context.addCookies([{ name: SESSION_COOKIE, value: id, url: baseUrl, httpOnly: true, sameSite: 'Strict' }]);
    },
    async screen(page, name) {
      const found: AxeViolation[] = [];
      const before = page.viewportSize();
      for (const [label, size] of Object.entries(VIEWPORTS)) {
        await page.setViewportSize(size);
        await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${label}.png`), fullPage: true });
        found.push(...(await axe(page)));
      }
      if (before) await page.setViewportSize(before);
      return found;
    },
    async stop() {
      await browser.close();
      // Live pages keep their event streams open: end them with the server.
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      server.close();
      await engine.stop();
    },
  };
}

/** Presses Tab until the focused element satisfies `wanted` (text or attributes), as a keyboard user would. */
export async function tabTo(
  page: Page,
  wanted: (el: { tag: string; text: string; name: string | null; value: string | null; href: string | null }) => boolean,
  max = 80,
): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const el = await page.evaluate<{
      tag: string;
      text: string;
      name: string | null;
      value: string | null;
      href: string | null;
    } | null>(`(() => {
      const a = document.activeElement;
      return a ? { tag: a.tagName.toLowerCase(), text: (a.textContent || '').trim(), name: a.getAttribute('name'), value: a.value ?? null, href: a.getAttribute('href') } : null;
    })()`);
    if (el && wanted(el)) return;
  }
  throw new Error('no focusable element matched within the Tab presses');
}
