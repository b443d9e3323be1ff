/**
 * Messages in the web app (issue 23): the patient's and the doctor's inbox, live over SSE while
 * open (a new message reloads the list), and the patient's contact points with consent per
 * channel and a preferred one. The same rules as the JSON API (api/notify.ts).
 */
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { contactPointsFrom, owner } from '../../api/notify';
import { ApiError } from '../../api/errors';
import type { ApiDeps } from '../../api/router';
import { contactPointsOf, inboxMessages, saveContactPoints } from '../../db/notify';
import type { Channel, ContactPoint } from '../../domain/notify';
import type { WebContext, WebEnv } from '../env';
import { formatDateTime } from '../i18n';
import { CsrfField, Layout } from '../layout';
import { checkCsrf, formOf, need, page } from './common';

/** The demo city's zone, for message times (a message is not tied to one clinic). */
const CITY_ZONE = 'Europe/Moscow';
/** A stream ends after this long; EventSource reconnects by itself. */
const STREAM_MS = 5 * 60_000;
type Message = Awaited<ReturnType<typeof inboxMessages>>[number];

const inboxVersion = (rows: Message[]) => `${rows.length}:${rows[0]?.id.slice(0, 8) ?? ''}`;

function Inbox(props: { c: WebContext; rows: Message[]; live: string }) {
  const { c, rows } = props;
  const t = c.get('t').notify;
  return (
    <div data-live={props.live} data-version={inboxVersion(rows)}>
      {rows.length === 0 ? (
        <p>{t.inboxEmpty}</p>
      ) : (
        <ul class="cards">
          {rows.map((m) => (
            <li data-message={m.id} data-kind={m.kind}>
              <strong>{m.subject}</strong>
              <div class="muted">
                <time datetime={m.created_at.toISOString()}>{formatDateTime(c.get('lang'), m.created_at, CITY_ZONE)}</time>
              </div>
              <p>{m.body.split('\n')[0]}</p>
              {m.link && <a href={new URL(m.link).pathname}>{t.open}</a>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ContactsForm(props: { c: WebContext; points: ContactPoint[]; error?: string; notice?: string }) {
  const { c, points } = props;
  const t = c.get('t').notify;
  const of = (ch: Channel) => points.find((p) => p.channel === ch);
  const preferred = points.find((p) => p.preferred)?.channel ?? '';
  const row = (ch: Channel, label: string, type: 'email' | 'tel' | null) => (
    <fieldset>
      <legend>{label}</legend>
      {type && (
        <input
          type={type}
          name={`${ch}-address`}
          value={of(ch)?.address ?? ''}
          aria-label={label}
          autocomplete={type === 'email' ? 'email' : 'tel'}
        />
      )}
      <label>
        <input type="checkbox" name={`${ch}-consent`} value="on" checked={of(ch)?.consent ?? false} /> {t.consent}
      </label>
      <label>
        <input type="radio" name="preferred" value={ch} checked={preferred === ch} /> {t.preferred}
      </label>
    </fieldset>
  );
  return (
    <Layout c={c} title={t.contacts} error={props.error} notice={props.notice}>
      <p>{t.contactsIntro}</p>
      <form method="post" action="/patient/contacts">
        <CsrfField c={c} />
        {row('email', t.email, 'email')}
        {row('sms', t.phone, 'tel')}
        {row('app', t.app, null)}
        <label>
          <input type="radio" name="preferred" value="" checked={preferred === ''} /> {t.noPreference}
        </label>
        <div class="actions">
          <button type="submit">{t.save}</button>
        </div>
      </form>
    </Layout>
  );
}

export function notifyPages(web: Hono<WebEnv>, deps: ApiDeps) {
  const { db } = deps;

  // The doctor's results inbox is /doctor/inbox (web/pages/doctor-inbox.tsx); their messages live beside it.
  for (const [role, box] of [
    ['patient', '/patient/inbox'],
    ['doctor', '/doctor/messages'],
  ] as const) {
    web.get(
      box,
      need(role),
      page(async (c) => {
        const rows = await inboxMessages(db, owner(c.get('caller')));
        return c.html(
          <Layout c={c} title={c.get('t').notify.inbox}>
            <Inbox c={c} rows={rows} live={`${box}/events`} />
          </Layout>,
        );
      }),
    );
    web.get(
      `${box}/events`,
      need(role),
      page(async (c) => {
        const who = owner(c.get('caller'));
        return streamSSE(c, async (stream) => {
          const until = Date.now() + STREAM_MS;
          while (!stream.aborted && !stream.closed && Date.now() < until) {
            await stream.writeSSE({ event: 'state', data: JSON.stringify({ version: inboxVersion(await inboxMessages(db, who)) }) });
            await stream.sleep(1000);
          }
        });
      }),
    );
  }

  web.get(
    '/patient/contacts',
    need('patient'),
    page(async (c) => {
      const o = owner(c.get('caller'));
      return c.html(<ContactsForm c={c} points={await contactPointsOf(db, o.type, o.id)} />);
    }),
  );

  web.post(
    '/patient/contacts',
    need('patient'),
    checkCsrf,
    page(async (c) => {
      const caller = c.get('caller');
      const o = owner(caller);
      const form = await formOf(c);
      const preferred = (['email', 'sms', 'app'] as const).find((ch) => form.preferred === ch) ?? null;
      const sent = (['email', 'sms', 'app'] as const)
        .map((channel) => ({
          channel,
          address: channel === 'app' ? null : (form[`${channel}-address`] ?? '').trim() || null,
          consent: form[`${channel}-consent`] === 'on',
        }))
        .filter((p) => p.consent || p.address);
      let points: ContactPoint[];
      try {
        points = contactPointsFrom({ points: sent, preferred });
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        const shown = sent.map((p) => ({ ...p, preferred: p.channel === preferred }));
        return c.html(<ContactsForm c={c} points={shown} error={c.get('t').notify.invalidContact} />, 400);
      }
      await saveContactPoints(db, o, points, caller.id);
      return c.html(<ContactsForm c={c} points={points} notice={c.get('t').notify.saved} />);
    }),
  );
}
