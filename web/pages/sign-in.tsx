/** The demo sign-in (embedded default only) or the provider's (web/oidc-sign-in.tsx), sign-out, and a home page per role. */
import type { Hono } from 'hono';
import { DEMO_CALLERS } from '../../db/demo-users';
import type { ApiDeps } from '../../api/router';
import type { WebEnv } from '../env';
import { Layout } from '../layout';
import { signIn, signOut } from '../session';
import { OidcSignIn, oidcPagesOn, providerSignOutUrl } from '../oidc-sign-in';
import { checkCsrf, errorPage, formOf, page } from './common';
import { patientHome } from './appointments';

export function signInPages(web: Hono<WebEnv>, deps: ApiDeps) {
  const { db, config } = deps;
  const demoOn = config.WEB_DEMO_SIGN_IN === 'on';
  const oidcOn = oidcPagesOn(config);

  web.get(
    '/sign-in',
    page(async (c) => {
      const t = c.get('t');
      if (!demoOn)
        return c.html(
          oidcOn ? (
            <OidcSignIn c={c} />
          ) : (
            <Layout c={c} title={t.signInTitle}>
              <p>{t.signInOff}</p>
            </Layout>
          ),
        );
      const patientIds = DEMO_CALLERS.flatMap((u) => (u.patientId ? [u.patientId] : []));
      const names = new Map(
        (patientIds.length ? await db.selectFrom('patients').select(['id', 'full_name']).where('id', 'in', patientIds).execute() : []).map(
          (p) => [p.id, p.full_name],
        ),
      );
      return c.html(
        <Layout c={c} title={t.signInTitle}>
          <p>{t.signInIntro}</p>
          {oidcOn && (
            <p>
              <a class="button" href="/auth/start" data-sign-in="oidc" hx-boost="false">
                {t.oidc.button}
              </a>
            </p>
          )}
          <ul class="cards">
            {DEMO_CALLERS.map((u) => {
              const who = `${t.roles[u.role]}${u.patientId && names.get(u.patientId) ? ` — ${names.get(u.patientId)}` : ''}`;
              return (
                <li>
                  <form method="post" action="/sign-in" hx-boost="false">
                    <input type="hidden" name="user" value={u.id} />
                    <button type="submit" data-user={u.id}>
                      {t.signInAs(who)}
                    </button>
                  </form>
                </li>
              );
            })}
          </ul>
        </Layout>,
      );
    }),
  );

  // No session yet, so no token to check: the Origin check (web/index.ts) guards this form.
  web.post(
    '/sign-in',
    page(async (c) => {
      if (!demoOn) return errorPage(c, 404, 'not_found');
      const { user } = await formOf(c);
      const caller = DEMO_CALLERS.find((u) => u.id === user);
      if (!caller) return errorPage(c, 400, 'validation_failed');
      await signIn(c, db, caller, 'demo', config.WEB_SESSION_HOURS);
      return c.redirect('/', 303);
    }),
  );

  web.post(
    '/sign-out',
    checkCsrf,
    page(async (c) => {
      const atProvider = await providerSignOutUrl(c, deps);
      await signOut(c, db);
      return c.redirect(atProvider ?? '/sign-in', 303);
    }),
  );

  web.get(
    '/',
    page(async (c) => {
      const session = c.get('session');
      if (!session) return c.redirect('/sign-in', 303);
      if (session.caller.role === 'patient') return patientHome(c, deps);
      const t = c.get('t');
      const role = session.caller.role;
      return c.html(
        <Layout c={c} title={t.roleHomeTitle(t.roles[role])}>
          <p>{t.signedInAs(`${t.roles[role]} (${session.caller.id})`)}</p>
          {role === 'doctor' && (
            <p>
              <a class="button" href="/doctor">
                {t.doctorDay}
              </a>
            </p>
          )}
          {(role === 'registrar' || role === 'ops') && (
            <p>
              <a class="button" href={role === 'ops' ? '/ops' : '/desk'}>
                {role === 'ops' ? t.ops.open : t.desk.open}
              </a>
            </p>
          )}
          {role === 'doctor' && (
            <p>
              <a class="button secondary" href="/doctor/inbox">
                {t.doctor2.menu.inbox}
              </a>
            </p>
          )}
          {role === 'lab' && (
            <p>
              <a class="button" href="/lab">
                {t.lab.menu.worklist}
              </a>
            </p>
          )}
          <p>{t.partTwo[role]}</p>
          <p>
            {t.jsonApiNote} <a href="/docs">/docs</a>
          </p>
        </Layout>,
      );
    }),
  );
}
