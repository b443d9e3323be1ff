/**
 * The patient's record pages: referrals with their legal deadline and state, final lab results
 * with flags and each test's trend, and who read the record. The id in the URL goes through the
 * same access rules as the JSON routes: another patient's id is refused.
 */
import type { Hono } from 'hono';
import { canReadPatientRecord } from '../../api/access';
import { ApiError } from '../../api/errors';
import { patientLabReports, type PatientLabReport } from '../../api/lab-order/patient-results';
import { assertMayReadAccessLog, auditView } from '../../api/record';
import type { ApiDeps } from '../../api/router';
import { auditPage } from '../../db/audit';
import { listReferrals, referralView } from '../../db/referral';
import { DEMO_TIME_ZONE } from '../../db/seed';
import { namesFor } from '../../db/web-views';
import { asApi, type WebContext, type WebEnv } from '../env';
import { formatDate, formatDateTime } from '../i18n';
import { Layout } from '../layout';
import { need, page } from './common';

const UUID = /^[0-9a-f-]{36}$/i;
type Result = PatientLabReport['results'][number];

function patientIdOf(c: WebContext): string {
  const id = c.req.param('patientId') ?? '';
  if (!UUID.test(id)) throw new ApiError(404, 'not_found', 'No such record.');
  return id;
}

/** A test's values over time as a small line; the values themselves are in its label and the table. */
function Trend(props: { label: string; points: { at: string; value: number }[] }) {
  const { points } = props;
  if (points.length < 2) return null;
  const w = 120,
    h = 32;
  const values = points.map((p) => p.value);
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  const y = (v: number) => (hi === lo ? h / 2 : h - 3 - ((v - lo) / (hi - lo)) * (h - 6));
  const d = points
    .map((p, i) => `${i ? 'L' : 'M'}${Math.round((i / (points.length - 1)) * (w - 6)) + 3},${Math.round(y(p.value))}`)
    .join(' ');
  return (
    <svg class="trend" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={props.label}>
      <path d={d} fill="none" stroke="#0b4fa8" stroke-width="2" />
    </svg>
  );
}

export function recordPages(web: Hono<WebEnv>, deps: ApiDeps) {
  const { db } = deps;

  web.get(
    '/records/:patientId/referrals',
    need('patient', 'doctor', 'registrar', 'admin'),
    page(async (c) => {
      const t = c.get('t');
      const lang = c.get('lang');
      const id = patientIdOf(c);
      await canReadPatientRecord(asApi(c), db, id, { type: 'ServiceRequestList', id });
      const rows = (await listReferrals(db, { patientId: id, limit: 100, offset: 0 })).map(referralView);
      const names = await namesFor(db, { clinicIds: rows.map((r) => r.clinicId), practitionerIds: [] });
      return c.html(
        <Layout c={c} title={t.referralsTitle}>
          {rows.length ? (
            <ul class="cards">
              {rows.map((r) => {
                const zone = names.clinics.get(r.clinicId)?.timeZone ?? DEMO_TIME_ZONE;
                return (
                  <li data-referral={r.id} data-status={r.status}>
                    <div>
                      <strong>{r.specialty ?? r.targetTest ?? r.kind}</strong> · {names.clinics.get(r.clinicId)?.name}
                    </div>
                    <div>
                      {t.status}: <span class="status">{t.referralStatus[r.status] ?? r.status}</span>
                      {r.breached && <strong> · {t.breached}</strong>}
                    </div>
                    <div>
                      {t.deadline}: <time datetime={r.deadlineAt}>{formatDate(lang, r.deadlineAt, zone)}</time>
                    </div>
                  </li>
                );
              })}
            </ul>
          ) : (
            <p>{t.noReferrals}</p>
          )}
        </Layout>,
      );
    }),
  );

  web.get(
    '/records/:patientId/results',
    need('patient', 'doctor', 'admin'),
    page(async (c) => {
      const t = c.get('t');
      const lang = c.get('lang');
      const id = patientIdOf(c);
      const { reports } = await patientLabReports(asApi(c), db, id);
      // Each test's values across every released report, oldest first: its trend.
      const byTest = new Map<string, Result[]>();
      for (const r of reports.flatMap((rep) => rep.results)) byTest.set(r.loinc, [...(byTest.get(r.loinc) ?? []), r]);
      for (const list of byTest.values()) list.sort((a, b) => a.resultedAt.localeCompare(b.resultedAt));
      const fmt = (v: number | null) => (v === null ? '—' : String(v));
      return c.html(
        <Layout c={c} title={t.resultsTitle}>
          {reports.length === 0 && <p>{t.noResults}</p>}
          {reports.map((rep) => (
            <section aria-labelledby={`rep-${rep.orderId}`} data-order={rep.orderId}>
              <h2 id={`rep-${rep.orderId}`}>
                {t.released}: {formatDateTime(lang, rep.releasedAt, DEMO_TIME_ZONE)}
                {rep.status === 'amended' && ` (${t.amended})`}
              </h2>
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t.test}</th>
                    <th scope="col">{t.value}</th>
                    <th scope="col">{t.range}</th>
                    <th scope="col">{t.trend}</th>
                  </tr>
                </thead>
                <tbody>
                  {rep.results.map((r) => {
                    const history = byTest.get(r.loinc) ?? [];
                    const label = `${t.trendOf(r.name)}: ${history.map((h) => `${h.value} ${h.unit}`).join(', ')}`;
                    return (
                      <tr data-loinc={r.loinc}>
                        <th scope="row">
                          {r.name} <span class="muted">(LOINC {r.loinc})</span>
                        </th>
                        <td>
                          {r.value} {r.unit}{' '}
                          {r.interpretation && r.interpretation !== 'N' && (
                            <span class={`flag-${r.interpretation}`} data-flag={r.interpretation}>
                              {t.flags[r.interpretation] ?? r.interpretation}
                            </span>
                          )}
                        </td>
                        <td>
                          {fmt(r.referenceRange.low)}–{fmt(r.referenceRange.high)}
                        </td>
                        <td>
                          <Trend
                            label={label}
                            points={history.flatMap((h) => (h.value === null ? [] : [{ at: h.resultedAt, value: h.value }]))}
                          />
                          {history.length > 1 && <span class="muted">{history.map((h) => fmt(h.value)).join(' → ')}</span>}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </section>
          ))}
        </Layout>,
      );
    }),
  );

  web.get(
    '/records/:patientId/access-log',
    need('patient', 'ops', 'admin'),
    page(async (c) => {
      const t = c.get('t');
      const lang = c.get('lang');
      const id = patientIdOf(c);
      assertMayReadAccessLog(c.get('caller'), id);
      const entries = (await auditPage(db, { patientId: id, limit: 100 })).map(auditView);
      const me = c.get('caller').id;
      return c.html(
        <Layout c={c} title={t.accessLogTitle}>
          {entries.length ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t.when}</th>
                  <th scope="col">{t.who}</th>
                  <th scope="col">{t.action}</th>
                  <th scope="col">{t.what}</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr data-action={e.action}>
                    <td>
                      <time datetime={e.at}>{formatDateTime(lang, e.at, DEMO_TIME_ZONE)}</time>
                    </td>
                    <td>
                      {e.userId === me ? '✓ ' : ''}
                      {e.role ? (t.roles[e.role as 'patient'] ?? e.role) : ''} <span class="muted">({e.userId})</span>
                    </td>
                    <td>
                      {t.accessActions[e.action] ?? e.action}
                      {e.reason && (
                        <div>
                          {t.reason}: {e.reason}
                        </div>
                      )}
                    </td>
                    <td>{e.resourceType}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p>{t.noAccess}</p>
          )}
        </Layout>,
      );
    }),
  );
}
