/**
 * The pages (server-rendered with hono/jsx, htmx for in-place answers, SSE for live parts),
 * mounted on the API's app at `/`. Each route carries its own middleware, so nothing here touches
 * the JSON routes. Pages call the API's access rules, commands and queries, never copies of them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Hono } from 'hono';
import { bookingCommands } from '../api/booking/commands';
import { bookingContext } from '../api/booking/shared';
import type { ApiDeps } from '../api/router';
import { PROJECT_ROOT } from '../platform/config';
import type { WebEnv } from './env';
import { isLang, LANG_COOKIE } from './i18n';
import { STATIC } from './layout';
import { appointmentPages } from './pages/appointments';
import { bookingPages } from './pages/booking';
import { deskPages } from './pages/desk';
import { deskMorePages } from './pages/desk-more';
import { doctorPages } from './pages/doctor';
import { labDoctorPages } from './pages/lab-doctor';
import { livePages } from './pages/live';
import { notifyPages } from './pages/notify';
import { opsPages } from './pages/ops';
import { recordPages } from './pages/records';
import { signInPages } from './pages/sign-in';
import { pageContext, sameOrigin } from './session';
import { oidcSignInPages, refreshOidcSession } from './oidc-sign-in';
import { setCookie } from 'hono/cookie';

const STATIC_FILES: Record<string, { file: string; type: string }> = {
  'htmx.min.js': { file: path.join(PROJECT_ROOT, 'node_modules/htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
  'web.js': { file: path.join(PROJECT_ROOT, 'web/static/web.js'), type: 'text/javascript; charset=utf-8' },
  'web.css': { file: path.join(PROJECT_ROOT, 'web/static/web.css'), type: 'text/css; charset=utf-8' },
};

/**
 * Page paths: the session, language and (for posts) Origin check run on these only. `/doctor/*` also matches
 * `/doctor` itself, so a bare path beside its `/*` would read the session twice per request.
 */
export const PAGE_PATHS = ['/', '/sign-in', '/sign-out', '/auth/*', '/patient/*', '/records/*', '/doctor/*', '/desk/*', '/ops/*', '/lab/*'];

export function webRouter(deps: ApiDeps) {
  const web = new Hono<WebEnv>();
  const files = new Map(Object.entries(STATIC_FILES).map(([name, f]) => [name, { body: readFileSync(f.file), type: f.type }]));
  web.get(`${STATIC}/:name`, (c) => {
    const f = files.get(c.req.param('name'));
    if (!f) return c.text('Not found', 404);
    return c.body(new Uint8Array(f.body), 200, { 'content-type': f.type, 'cache-control': 'public, max-age=300' });
  });
  web.get('/lang/:to', (c) => {
    const to = c.req.param('to');
    if (isLang(to)) setCookie(c, LANG_COOKIE, to, { path: '/', sameSite: 'Lax', maxAge: 365 * 86_400 });
    const back = c.req.query('back') ?? '/';
    // Only a path of this site: never an open redirect.
    return c.redirect(/^\/(?![/\\])[\w\-/.%]*$/.test(back) ? back : '/', 303);
  });
  for (const p of PAGE_PATHS) {
    web.use(p, pageContext(deps.db), refreshOidcSession(deps));
    web.on(['POST'], p, sameOrigin());
  }
  const ctx = bookingContext(deps);
  const commands = bookingCommands(ctx);
  signInPages(web, deps);
  oidcSignInPages(web, deps);
  livePages(web, deps, ctx);
  bookingPages(web, deps, commands);
  appointmentPages(web, deps, ctx, commands);
  recordPages(web, deps);
  doctorPages(web, deps, ctx, commands);
  notifyPages(web, deps);
  deskPages(web, deps, ctx, commands);
  deskMorePages(web, deps, ctx, commands);
  opsPages(web, deps);
  labDoctorPages(web, deps);
  web.get('/patient', (c) => c.redirect('/', 303));
  return web;
}
