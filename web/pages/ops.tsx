/**
 * The ops board: the summary (GET /ops/summary's snapshot), breached referrals and unacknowledged critical values
 * (the lists behind GET /ops/breached-referrals and GET /ops/critical-results; no patient data), and from any
 * appointment, referral, order or clinic a link straight to its workflow in the Temporal UI.
 */
import type { Hono } from 'hono';
import { breachedReferralList } from '../../api/desk-ops';
import { ApiError } from '../../api/errors';
import { labNames } from '../../api/lab-order/names';
import type { ApiDeps } from '../../api/router';
import { criticalUnacknowledged } from '../../db/lab-order';
import { opsSummary } from '../../db/ops';
import { onboardingWorkflowId } from '../../domain/onboarding';
import type { WebContext, WebEnv } from '../env';
import { formatDateTime } from '../i18n';
import { Layout } from '../layout';
import { temporalUiLink } from '../temporal-link';
import { page } from './common';
import { opsNotifyPages } from './ops-notify';
import { rolloutPages } from './ops-rollout';
import { rosterPages } from './ops-roster';
import { OpsNav, TemporalLink, opsOnly } from './ops-shared';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KINDS = ['appointment', 'referral', 'order', 'clinic'] as const;
function Counts(props: { c: WebContext; title: string; counts: Record<string, number>; label?: (k: string) => string }) {
  const o = props.c.get('t').ops;
  const entries = Object.entries(props.counts).sort(([a], [b]) => a.localeCompare(b));
  return (
    <table class="counts">
      <caption>{props.title}</caption>
      <thead>
        <tr>
          <th scope="col">{o.state}</th>
          <th scope="col">{o.count}</th>
        </tr>
      </thead>
      <tbody>
        {entries.length ? (
          entries.map(([k, n]) => (
            <tr>
              <td>{props.label?.(k) ?? k}</td>
              <td>{n}</td>
            </tr>
          ))
        ) : (
          <tr>
            <td colspan={2}>{o.none}</td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

export function opsPages(web: Hono<WebEnv>, deps: ApiDeps) {
  const { db, config } = deps;
  const link = (workflowId: string) => temporalUiLink(config, workflowId);

  web.get(
    '/ops',
    opsOnly,
    page(async (c) => {
      const t = c.get('t');
      const o = t.ops;
      const lang = c.get('lang');
      const [summary, breached, critical] = await Promise.all([
        opsSummary(db),
        breachedReferralList(db),
        criticalUnacknowledged(db, { limit: 200 }),
      ]);
      const names = await labNames(db, critical, { namePatients: false, practitioners: [] });
      return c.html(
        <Layout c={c} title={o.summaryTitle}>
          <OpsNav c={c} at="summary" />
          <p class="muted">{o.at(summary.at.slice(0, 16).replace('T', ' '))}</p>
          <h2>{o.attention}</h2>
          <ul class="attention">
            {Object.entries(summary.attention).map(([k, n]) => (
              <li data-attention={k} class={n > 0 ? 'hot' : undefined}>
                <strong>{n}</strong> {o.attentionItems[k] ?? k}
              </li>
            ))}
          </ul>
          <div class="counts-grid">
            <Counts c={c} title={o.counts.appointments!} counts={summary.appointments} label={(k) => t.appointmentStatus[k] ?? k} />
            <Counts c={c} title={o.counts.referrals!} counts={summary.referrals} label={(k) => t.referralStatus[k] ?? k} />
            <Counts c={c} title={o.counts.labOrders!} counts={summary.labOrders} />
            <Counts c={c} title={o.counts.onboarding!} counts={summary.onboarding} label={(k) => o.stages[k] ?? k} />
          </div>

          <h2 id="breached-title">{o.breachedTitle}</h2>
          {breached.referrals.length ? (
            <div class="table-scroll" tabindex={0} role="region" aria-labelledby="breached-title">
              <table class="breached" aria-labelledby="breached-title">
                <thead>
                  <tr>
                    <th scope="col">{o.clinic}</th>
                    <th scope="col">{o.specialty}</th>
                    <th scope="col">{o.deadline}</th>
                    <th scope="col">{o.escalation}</th>
                    <th scope="col">{o.process}</th>
                  </tr>
                </thead>
                <tbody>
                  {breached.referrals.map((r) => (
                    <tr data-referral={r.id}>
                      <td>{r.clinicName}</td>
                      <td>
                        {r.specialty} · {t.desk.urgency[r.urgency] ?? r.urgency}
                      </td>
                      <td>
                        <time datetime={r.deadlineAt}>{formatDateTime(lang, r.deadlineAt, r.timeZone)}</time>
                      </td>
                      <td>{t.desk.escalation[r.escalationLevel] ?? o.none}</td>
                      <td>
                        <TemporalLink c={c} href={link(r.workflowId)} workflowId={r.workflowId} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p>{o.noBreached}</p>
          )}

          <h2 id="critical-title">{o.criticalTitle}</h2>
          {critical.length ? (
            <div class="table-scroll" tabindex={0} role="region" aria-labelledby="critical-title">
              <table class="critical" aria-labelledby="critical-title">
                <thead>
                  <tr>
                    <th scope="col">{o.clinic}</th>
                    <th scope="col">{o.tests}</th>
                    <th scope="col">{o.orderedBy}</th>
                    <th scope="col">{o.finalAt}</th>
                    <th scope="col">{o.steps}</th>
                    <th scope="col">{o.process}</th>
                  </tr>
                </thead>
                <tbody>
                  {critical.map((r) => {
                    const f = names.fields(r);
                    return (
                      <tr data-order={r.id}>
                        <td>{f.clinicName}</td>
                        <td>{f.testNames.join(', ')}</td>
                        <td>{f.orderingPractitionerName ?? o.none}</td>
                        <td>
                          {r.final_at ? (
                            <time datetime={r.final_at.toISOString()}>{formatDateTime(lang, r.final_at, f.timeZone)}</time>
                          ) : (
                            o.none
                          )}
                        </td>
                        <td>{r.steps.length}</td>
                        <td>
                          <TemporalLink c={c} href={link(r.workflow_id)} workflowId={r.workflow_id} />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          ) : (
            <p>{o.noCritical}</p>
          )}

          <h2>{o.findProcess}</h2>
          {config.TEMPORAL_UI_URL ? (
            <form method="get" action="/ops/process" class="grid search" hx-boost="false">
              <div>
                <label for="kind">{o.kind}</label>
                <select id="kind" name="kind">
                  {KINDS.map((k) => (
                    <option value={k}>{o.kinds[k]}</option>
                  ))}
                </select>
              </div>
              <div>
                <label for="process-id">{o.id}</label>
                <input id="process-id" name="id" required pattern="[0-9a-fA-F-]{36}" autocomplete="off" />
              </div>
              <div>
                <button type="submit">{o.go}</button>
              </div>
            </form>
          ) : (
            <p class="muted">{o.noTemporalUi}</p>
          )}
        </Layout>,
      );
    }),
  );

  /** An appointment, referral, lab order or clinic by id → its workflow in the Temporal UI (a 404 page when there is none). */
  web.get(
    '/ops/process',
    opsOnly,
    page(async (c) => {
      const kind = c.req.query('kind') ?? '';
      const id = (c.req.query('id') ?? '').trim().toLowerCase();
      if (!UUID.test(id) || !(KINDS as readonly string[]).includes(kind)) throw new ApiError(404, 'not_found', 'No such process.');
      let workflowId: string | undefined;
      if (kind === 'appointment')
        workflowId = (await db.selectFrom('appointments').select('workflow_id').where('id', '=', id).executeTakeFirst())?.workflow_id;
      if (kind === 'referral')
        workflowId = (await db.selectFrom('referrals').select('workflow_id').where('id', '=', id).executeTakeFirst())?.workflow_id;
      if (kind === 'order')
        workflowId = (await db.selectFrom('lab_orders').select('workflow_id').where('id', '=', id).executeTakeFirst())?.workflow_id;
      if (kind === 'clinic' && (await db.selectFrom('clinics').select('id').where('id', '=', id).executeTakeFirst()))
        workflowId = onboardingWorkflowId(id);
      const href = workflowId && link(workflowId);
      if (!href) throw new ApiError(404, 'not_found', 'No such process.');
      return c.redirect(href, 302);
    }),
  );

  rolloutPages(web, deps, link);
  opsNotifyPages(web, deps);
  rosterPages(web, deps);
}
