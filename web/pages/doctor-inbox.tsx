/**
 * The doctor's lab inbox: final results awaiting their acknowledgement (the same query as
 * GET /doctors/me/lab-inbox) with flags and CDS cards, kept current by server-sent events (the region
 * is swapped in place when results or cards land; no reload), acknowledged with the read-back of each
 * critical value (api/lab-order/commands.ts acknowledge: a wrong read-back is refused at its field).
 */
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { ApiError } from '../../api/errors';
import { labOrderCommands } from '../../api/lab-order/commands';
import { labNames } from '../../api/lab-order/names';
import type { ApiDeps } from '../../api/router';
import { currentResults, doctorInbox } from '../../db/lab-order';
import { latestCdsCards, referralWork } from '../../db/web-lab-doctor';
import { isCritical } from '../../domain/interpretation';
import type { ReadBack } from '../../domain/lab-order';
import { asApi, type WebContext, type WebEnv } from '../env';
import { formatDateTime } from '../i18n';
import { CsrfField, Layout } from '../layout';
import { checkCsrf, errorPage, formOf, need, page } from './common';
import { idParam, staffErrorText } from './lab-common';

const STREAM_MS = 5 * 60_000;
const INBOX_LIMIT = 100;
interface ReadBackError {
  orderId: string;
  loinc: string;
  text: string;
  values: Record<string, string>;
}

export function doctorInboxPages(web: Hono<WebEnv>, deps: ApiDeps) {
  const { db } = deps;
  const commands = labOrderCommands(deps);
  const doctor = need('doctor');
  const me = (c: WebContext) => {
    const id = c.get('caller').practitionerId;
    if (!id) throw new ApiError(403, 'forbidden', 'The session names no practitioner.');
    return id;
  };

  async function inboxData(practitionerId: string) {
    const rows = await doctorInbox(db, practitionerId, INBOX_LIMIT);
    const ids = rows.map((r) => r.id);
    const [names, results, cards] = await Promise.all([
      labNames(db, rows, { namePatients: true }),
      currentResults(db, ids),
      latestCdsCards(db, ids),
    ]);
    // What changes the page: an order in or out, a new round, a critical flag, cards stored.
    const version =
      rows.map((r) => `${r.id}:${r.round}:${r.critical_pending ? 1 : 0}:${cards.get(r.id)?.length ?? -1}`).join('|') || 'empty';
    return { rows, names, results, cards, version };
  }

  async function Region(props: { c: WebContext; error?: ReadBackError }) {
    const { c, error } = props;
    const t = c.get('t');
    const lang = c.get('lang');
    const { rows, names, results, cards, version } = await inboxData(me(c));
    return (
      <div id="inbox" data-live="/doctor/inbox/events" data-live-swap="/doctor/inbox/region" data-version={version} aria-live="polite">
        {rows.length === 0 && <p>{t.doctor2.noInbox}</p>}
        {rows.map((r) => {
          const n = names.fields(r);
          const mine = results.filter((x) => x.lab_order_id === r.id);
          const critical = mine.filter((x) => isCritical(x.interpretation));
          const orderCards = cards.get(r.id);
          return (
            <section
              class={`inbox-order${r.critical_pending ? ' critical' : ''}`}
              data-order={r.id}
              data-critical={String(r.critical_pending)}
              aria-labelledby={`o-${r.id}`}
            >
              <h2 id={`o-${r.id}`}>
                {n.patientName ?? '—'}
                {r.critical_pending && <span class="badge critical"> · {t.doctor2.critical}</span>}
              </h2>
              <p class="muted">
                {n.testNames.join(', ')} · {r.final_at ? formatDateTime(lang, r.final_at, n.timeZone) : '—'} ({n.clinicName}) ·{' '}
                <a href={`/doctor/patients/${r.patient_id}`}>{t.doctor2.openRecord}</a>
              </p>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">{t.test}</th>
                      <th scope="col">{t.value}</th>
                      <th scope="col">{t.range}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {mine.map((x) => (
                      <tr data-loinc={x.loinc} data-flag={x.interpretation}>
                        <th scope="row">{x.name}</th>
                        <td>
                          {x.value} {x.unit}{' '}
                          {x.interpretation !== 'N' && (
                            <span class={`flag-${x.interpretation}`}>{t.flags[x.interpretation] ?? x.interpretation}</span>
                          )}
                        </td>
                        <td>
                          {x.ref_low ?? '—'}–{x.ref_high ?? '—'}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <h3>{t.doctor2.cdsTitle}</h3>
              {orderCards === undefined || orderCards.length === 0 ? (
                <p class="muted" data-cards="0">
                  {t.doctor2.noCards}
                </p>
              ) : (
                <ul class="cds-cards" data-cards={String(orderCards.length)}>
                  {orderCards.map((card) => (
                    <li class={`cds-card indicator-${card.indicator ?? 'info'}`}>
                      <strong>{card.summary}</strong>{' '}
                      <span class="muted">({t.doctor2.indicators[card.indicator ?? 'info'] ?? card.indicator})</span>
                      {card.detail && <div>{card.detail.replace(/\*\*/g, '')}</div>}
                      {card.source?.label && <div class="muted">{card.source.label}</div>}
                    </li>
                  ))}
                </ul>
              )}
              <form method="post" action={`/doctor/inbox/${r.id}/acknowledge`} class="acknowledge">
                <CsrfField c={c} />
                {critical.length > 0 && (
                  <fieldset>
                    <legend>{t.doctor2.readBackTitle}</legend>
                    <p id={`rb-help-${r.id}`} class="muted">
                      {t.doctor2.readBackHelp}
                    </p>
                    {critical.map((x) => {
                      const err = error?.orderId === r.id && error.loinc === x.loinc ? error.text : '';
                      const base = `rb-${r.id.slice(0, 8)}-${x.loinc}`;
                      return (
                        <div class="pair" data-read-back={x.loinc}>
                          <div>
                            <label for={`${base}-v`}>{t.doctor2.readBackValue(x.name)}</label>
                            <input
                              id={`${base}-v`}
                              name={`value:${x.loinc}`}
                              inputmode="decimal"
                              autocomplete="off"
                              required
                              value={error?.orderId === r.id ? (error.values[`value:${x.loinc}`] ?? '') : ''}
                              aria-describedby={`rb-help-${r.id} ${base}-error`}
                              aria-invalid={err ? 'true' : undefined}
                            />
                          </div>
                          <div>
                            <label for={`${base}-u`}>{t.doctor2.readBackUnit(x.name)}</label>
                            <input
                              id={`${base}-u`}
                              name={`unit:${x.loinc}`}
                              autocomplete="off"
                              required
                              value={error?.orderId === r.id ? (error.values[`unit:${x.loinc}`] ?? '') : ''}
                              aria-invalid={err ? 'true' : undefined}
                            />
                          </div>
                          <p id={`${base}-error`} class="field-error" role={err ? 'alert' : undefined}>
                            {err}
                          </p>
                        </div>
                      );
                    })}
                  </fieldset>
                )}
                <div class="actions">
                  <button type="submit">{t.doctor2.acknowledge}</button>
                </div>
              </form>
            </section>
          );
        })}
      </div>
    );
  }

  async function renderInbox(c: WebContext, opts: { notice?: string; error?: ReadBackError } = {}, status: 200 | 409 | 422 = 200) {
    const t = c.get('t');
    const work = await referralWork(db, me(c));
    return c.html(
      <Layout c={c} title={t.doctor2.inboxTitle} notice={opts.notice}>
        <p class="muted">{t.doctor2.inboxLive}</p>
        <Region c={c} error={opts.error} />
        <h2>{t.doctor2.referralsTitle}</h2>
        {work.length === 0 ? (
          <p>{t.doctor2.noReferralWork}</p>
        ) : (
          <ul class="cards">
            {work.map((w) => (
              <li data-referral={w.id} data-status={w.status}>
                <a href={`/doctor/referrals/${w.id}`}>
                  {w.patient_name} · {w.specialty}
                </a>
                <div class="status">{w.status === 'reported' ? t.doctor2.toAcknowledge : t.doctor2.toReport}</div>
              </li>
            ))}
          </ul>
        )}
      </Layout>,
      status,
    );
  }

  web.get(
    '/doctor/inbox',
    doctor,
    page(async (c) => {
      return renderInbox(c, { notice: c.req.query('done') ? c.get('t').doctor2.acknowledged : undefined });
    }),
  );

  // The live region alone (htmx swaps it in when the stream says the inbox changed).
  web.get(
    '/doctor/inbox/region',
    doctor,
    page(async (c) => c.html(<Region c={c} />)),
  );

  web.get(
    '/doctor/inbox/events',
    doctor,
    page(async (c) => {
      const practitionerId = me(c);
      return streamSSE(c, async (stream) => {
        const until = Date.now() + STREAM_MS;
        while (!stream.aborted && !stream.closed && Date.now() < until) {
          const { version } = await inboxData(practitionerId);
          await stream.writeSSE({ event: 'state', data: JSON.stringify({ version }) });
          await stream.sleep(1000);
        }
      });
    }),
  );

  web.post(
    '/doctor/inbox/:id/acknowledge',
    doctor,
    checkCsrf,
    page(async (c) => {
      const id = idParam(c, 'id', 'lab_order_not_found');
      const form = await formOf(c);
      const readBack: ReadBack[] = Object.keys(form)
        .filter((k) => k.startsWith('value:'))
        .map((k) => {
          const loinc = k.slice('value:'.length);
          const raw = form[k]!.trim().replace(',', '.');
          return { loinc, value: /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN, unit: (form[`unit:${loinc}`] ?? '').trim() };
        });
      try {
        // A value that is not a number cannot match: refused at its field like any wrong read-back.
        const bad = readBack.find((b) => Number.isNaN(b.value) || !b.unit);
        if (bad) throw new ApiError(422, 'read_back_mismatch', 'The read-back is not a value and unit.', { loinc: bad.loinc });
        await commands.acknowledge(asApi(c), id, readBack);
        return c.redirect(`/doctor/inbox?done=${id}`, 303);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        const loinc = (err.details as { loinc?: unknown } | undefined)?.loinc;
        if (err.code !== 'read_back_mismatch' && err.code !== 'read_back_required') {
          return err.status === 409 ? renderInbox(c, {}, 409) : errorPage(c, err.status as 403, err.code);
        }
        const text = staffErrorText(c.get('t'), err.code);
        return renderInbox(c, { error: { orderId: id, loinc: typeof loinc === 'string' ? loinc : '', text, values: form } }, 422);
      }
    }),
  );
}
