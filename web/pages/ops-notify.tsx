/**
 * Ops' side of messages (issue 23): deliveries that failed or were handed to ops with what to do about each, counts
 * per channel and kind, and the patients no channel reaches. The same queries as GET /ops/notifications/failures and
 * /ops/notifications/unreachable (db/notify.ts); ids only, as there: ops see no patient data.
 */
import type { Hono } from 'hono';
import type { ApiDeps } from '../../api/router';
import { clinicsOverview } from '../../db/desk-ops';
import { deliveryCounts, failedDeliveries, unreachablePatients } from '../../db/notify';
import type { WebContext, WebEnv } from '../env';
import { formatDateTime } from '../i18n';
import { Layout } from '../layout';
import { page } from './common';
import { OpsNav, opsOnly } from './ops-shared';

type Failure = Awaited<ReturnType<typeof failedDeliveries>>[number];
const STATUSES = ['queued', 'sending', 'sent', 'delivered', 'failed'] as const;

/** What ops should do about one failure: a hand-off to ops by its reason (and whom it was for), a channel by itself. */
function todoOf(c: WebContext, f: Failure): string {
  const n = c.get('t').opsNotify;
  if (f.channel !== 'ops') return n.todos.channel!;
  return n.todos[`${f.reason}:${f.recipient_type}`] ?? n.todos[f.reason ?? ''] ?? '';
}

/** The appointment, order or referral a failure is about, by id: into its workflow when the Temporal UI is known. */
function RecordRef(props: { c: WebContext; f: Failure; linked: boolean }) {
  const n = props.c.get('t').opsNotify;
  const refs = [
    ['appointment', props.f.appointment_id],
    ['order', props.f.lab_order_id],
    ['referral', props.f.referral_id],
  ].filter((r): r is [string, string] => !!r[1]);
  if (!refs.length) return <>—</>;
  return (
    <>
      {refs.map(([kind, id]) => (
        <div data-record={id}>
          {n.records[kind]}{' '}
          {props.linked ? (
            <a href={`/ops/process?kind=${kind}&id=${id}`} hx-boost="false">
              <code class="id">{id}</code>
            </a>
          ) : (
            <code class="id">{id}</code>
          )}
        </div>
      ))}
    </>
  );
}

export function opsNotifyPages(web: Hono<WebEnv>, deps: ApiDeps) {
  const { db, config } = deps;

  web.get(
    '/ops/deliveries',
    opsOnly,
    page(async (c) => {
      const n = c.get('t').opsNotify;
      const lang = c.get('lang');
      const utc = (d: Date | null) => (d ? <time datetime={d.toISOString()}>{formatDateTime(lang, d, 'UTC')}</time> : '—');
      const [failures, counts] = await Promise.all([failedDeliveries(db), deliveryCounts(db)]);
      // One row per channel and kind, a column per status.
      const byRow = new Map<string, { channel: string; kind: string; n: Record<string, number> }>();
      for (const r of counts) {
        const key = `${r.channel}|${r.kind}`;
        const row = byRow.get(key) ?? { channel: r.channel, kind: r.kind, n: {} };
        row.n[r.status] = Number(r.n);
        byRow.set(key, row);
      }
      const countRows = [...byRow.values()].sort((a, b) => a.channel.localeCompare(b.channel) || a.kind.localeCompare(b.kind));
      return c.html(
        <Layout c={c} title={n.failuresTitle}>
          <OpsNav c={c} at="deliveries" />
          <p class="muted">{n.failuresIntro}</p>
          {failures.length ? (
            <div class="table-scroll" tabindex={0} role="region" aria-labelledby="failures-caption">
              <table class="failures">
                <caption id="failures-caption">{n.failuresTitle}</caption>
                <thead>
                  <tr>
                    <th scope="col">{n.kind}</th>
                    <th scope="col">{n.channel}</th>
                    <th scope="col">{n.reason}</th>
                    <th scope="col">{n.attempts}</th>
                    <th scope="col">{n.decidedAt}</th>
                    <th scope="col">{n.failedAt}</th>
                    <th scope="col">{n.recipient}</th>
                    <th scope="col">{n.record}</th>
                    <th scope="col">{n.todo}</th>
                  </tr>
                </thead>
                <tbody>
                  {failures.map((f) => (
                    <tr data-delivery={f.id} data-channel={f.channel} data-reason={f.reason ?? ''} data-recipient={f.recipient_id ?? ''}>
                      <td>{n.kinds[f.kind] ?? f.kind}</td>
                      <td>{n.channels[f.channel] ?? f.channel}</td>
                      <td class="reason">{f.reason ? (n.reasons[f.reason] ?? f.reason) : '—'}</td>
                      <td>{f.attempts}</td>
                      <td>{utc(f.decided_at)}</td>
                      <td>{utc(f.failed_at)}</td>
                      <td>
                        {n.recipients[f.recipient_type] ?? f.recipient_type}
                        {f.recipient_id && (
                          <>
                            {' '}
                            <code class="id">{f.recipient_id}</code>
                          </>
                        )}
                      </td>
                      <td>
                        <RecordRef c={c} f={f} linked={!!config.TEMPORAL_UI_URL} />
                      </td>
                      <td>{todoOf(c, f)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p>{n.noFailures}</p>
          )}

          <h2 id="counts-title">{n.countsTitle}</h2>
          <div class="table-scroll" tabindex={0} role="region" aria-labelledby="counts-title">
            <table class="delivery-counts" aria-labelledby="counts-title">
              <thead>
                <tr>
                  <th scope="col">{n.channel}</th>
                  <th scope="col">{n.kind}</th>
                  {STATUSES.map((s) => (
                    <th scope="col">{n.statuses[s]}</th>
                  ))}
                  <th scope="col">{n.total}</th>
                </tr>
              </thead>
              <tbody>
                {countRows.map((r) => (
                  <tr data-channel={r.channel} data-kind={r.kind}>
                    <th scope="row">{n.channels[r.channel] ?? r.channel}</th>
                    <td>{n.kinds[r.kind] ?? r.kind}</td>
                    {STATUSES.map((s) => (
                      <td data-status={s}>{r.n[s] ?? 0}</td>
                    ))}
                    <td>{Object.values(r.n).reduce((a, b) => a + b, 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Layout>,
      );
    }),
  );

  web.get(
    '/ops/unreachable',
    opsOnly,
    page(async (c) => {
      const n = c.get('t').opsNotify;
      const lang = c.get('lang');
      const [patients, clinics] = await Promise.all([unreachablePatients(db), clinicsOverview(db)]);
      const clinicName = new Map(clinics.map((cl) => [cl.id, `${cl.code} · ${cl.name}`]));
      return c.html(
        <Layout c={c} title={n.unreachableTitle}>
          <OpsNav c={c} at="unreachable" />
          <p class="muted">{n.unreachableIntro}</p>
          <p class="todo">{n.unreachableTodo}</p>
          {patients.length ? (
            <div class="table-scroll" tabindex={0} role="region" aria-labelledby="unreachable-caption">
              <table class="unreachable">
                <caption id="unreachable-caption">{n.unreachableTitle}</caption>
                <thead>
                  <tr>
                    <th scope="col">{n.patientId}</th>
                    <th scope="col">{n.homeClinic}</th>
                    <th scope="col">{n.messages}</th>
                    <th scope="col">{n.lastAt}</th>
                  </tr>
                </thead>
                <tbody>
                  {patients.map((p) => (
                    <tr data-patient={p.patient_id}>
                      <td>
                        <code class="id">{p.patient_id}</code>
                      </td>
                      <td>{p.home_clinic_id ? (clinicName.get(p.home_clinic_id) ?? p.home_clinic_id) : '—'}</td>
                      <td>{Number(p.messages)}</td>
                      <td>
                        <time datetime={new Date(p.last_at).toISOString()}>{formatDateTime(lang, p.last_at, 'UTC')}</time>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p>{n.noUnreachable}</p>
          )}
        </Layout>,
      );
    }),
  );
}
