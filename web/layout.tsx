/** The page frame every screen stands on: language, skip link, header with the role's menu, main, footer. */
import type { Child } from 'hono/jsx';
import type { WebContext } from './env';
import { CSRF_FIELD } from './session';

export const STATIC = '/static';
/** htmx answers in place; a refusal (4xx) is swapped in too, so the form's message shows without a reload. */
const HTMX_CONFIG = JSON.stringify({
  responseHandling: [
    { code: '204', swap: false },
    { code: '[2345]..', swap: true, error: false },
  ],
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
});

export function Layout(props: { c: WebContext; title: string; children?: Child; notice?: string; error?: string }) {
  const { c } = props;
  const t = c.get('t');
  const session = c.get('session');
  const role = session?.caller.role;
  const back = encodeURIComponent(c.req.path);
  return (
    <html lang={t.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${props.title} · ${t.appName}`}</title>
        <link rel="stylesheet" href={`${STATIC}/web.css`} />
        <script src={`${STATIC}/htmx.min.js`} defer></script>
        <script src={`${STATIC}/web.js`} defer></script>
      </head>
      <body hx-boost="true" hx-headers={session ? JSON.stringify({ 'x-csrf-token': session.csrfToken }) : undefined}>
        <a class="skip" href="#main">
          {t.skipToContent}
        </a>
        <header class="top">
          <a class="brand" href="/">
            {t.appName}
          </a>
          {role === 'patient' && (
            <nav aria-label={t.nav}>
              <ul>
                <li>
                  <a href="/patient/book">{t.findSlot}</a>
                </li>
                <li>
                  <a href="/patient/appointments">{t.myAppointments}</a>
                </li>
                <li>
                  <a href={`/records/${session!.caller.patientId}/referrals`}>{t.myReferrals}</a>
                </li>
                <li>
                  <a href={`/records/${session!.caller.patientId}/results`}>{t.myResults}</a>
                </li>
                <li>
                  <a href={`/records/${session!.caller.patientId}/access-log`}>{t.accessLog}</a>
                </li>
                <li>
                  <a href="/patient/inbox">{t.notify.inbox}</a>
                </li>
                <li>
                  <a href="/patient/contacts">{t.notify.contacts}</a>
                </li>
              </ul>
            </nav>
          )}
          {role === 'doctor' && (
            <nav aria-label={t.nav}>
              <ul>
                <li>
                  <a href="/doctor">{t.doctorDay}</a>
                </li>
                <li>
                  <a href="/doctor/inbox">{t.doctor2.menu.inbox}</a>
                </li>
                <li>
                  <a href="/doctor/messages">{t.notify.inbox}</a>
                </li>
              </ul>
            </nav>
          )}
          {(role === 'registrar' || role === 'ops') && (
            <nav aria-label={t.nav}>
              <ul>
                <li>
                  <a href={role === 'ops' ? '/ops' : '/desk'}>{role === 'ops' ? t.ops.menu : t.desk.menu}</a>
                </li>
              </ul>
            </nav>
          )}
          {role === 'lab' && (
            <nav aria-label={t.nav}>
              <ul>
                <li>
                  <a href="/lab">{t.lab.menu.worklist}</a>
                </li>
              </ul>
            </nav>
          )}
        </header>
        <main id="main" tabindex={-1}>
          <h1>{props.title}</h1>
          {props.error && (
            <p class="alert error" role="alert">
              {props.error}
            </p>
          )}
          {props.notice && (
            <p class="alert notice" role="status">
              {props.notice}
            </p>
          )}
          {props.children}
        </main>
        <footer class="bottom">
          <a href={`/lang/${t.lang === 'ru' ? 'en' : 'ru'}?back=${back}`} lang={t.lang === 'ru' ? 'en' : 'ru'} hx-boost="false">
            {t.otherLanguage}
          </a>
          {session && (
            <form method="post" action="/sign-out" class="inline" hx-boost="false">
              <CsrfField c={c} />
              <button type="submit" class="link">
                {t.signOut}
              </button>
            </form>
          )}
        </footer>
      </body>
    </html>
  );
}

/** The session's CSRF token as a hidden field: every form carries it (htmx also sends it as a header). */
export function CsrfField(props: { c: WebContext }) {
  const token = props.c.get('session')?.csrfToken;
  return token ? <input type="hidden" name={CSRF_FIELD} value={token} /> : null;
}
