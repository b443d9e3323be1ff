/**
 * A patient's record from every clinic on one timeline (visits, referrals, results with flags, critical
 * events, CDS assessments and cards, diagnoses): the same access rule and query as GET
 * /patients/{id}/record. Without a care relationship the page refuses and offers break-the-glass with
 * a stated reason (the same rule as the X-Break-Glass-Reason header; audited, shown to the patient).
 */
import type { Hono } from 'hono';
import { canReadPatientRecord } from '../../api/access';
import { ApiError } from '../../api/errors';
import { nameRecordItems } from '../../api/record-names';
import type { ApiDeps } from '../../api/router';
import { patientRecordPage } from '../../db/record';
import { latestCdsCards } from '../../db/web-lab-doctor';
import { patientNames } from '../../db/web-views';
import { decodeCursor, encodeCursor, type RecordItem } from '../../domain/record';
import { asApi, type WebContext, type WebEnv } from '../env';
import { formatDateTime } from '../i18n';
import { CsrfField, Layout } from '../layout';
import { checkCsrf, formOf, need, page } from './common';
import { idParam } from './lab-common';

type Named = RecordItem & { clinicName?: string; timeZone?: string; practitionerName?: string | null; testNames?: string[] };
const PAGE = 40;

export function doctorRecordPages(web: Hono<WebEnv>, deps: ApiDeps) {
  const { db } = deps;
  const doctor = need('doctor');

  async function renderRecord(c: WebContext, patientId: string, cursorRaw: string | undefined, notice?: string) {
    const t = c.get('t');
    const lang = c.get('lang');
    const cursor = cursorRaw ? decodeCursor(cursorRaw) : null;
    const [recordPage, names] = await Promise.all([patientRecordPage(db, patientId, cursor, PAGE), patientNames(db, [patientId])]);
    const [items, cards] = await Promise.all([
      nameRecordItems(db, recordPage.items) as Promise<Named[]>,
      latestCdsCards(
        db,
        recordPage.items.filter((i) => i.kind === 'lab-report').map((i) => i.id),
      ),
    ]);
    const when = (i: Named) =>
      i.timeZone ? `${formatDateTime(lang, i.at, i.timeZone)} (${i.timeZone})` : formatDateTime(lang, i.at, 'UTC');
    return c.html(
      <Layout c={c} title={t.doctor2.recordTitle(names.get(patientId) ?? '—')} notice={notice}>
        {items.length === 0 ? (
          <p>{t.doctor2.recordEmpty}</p>
        ) : (
          <ol class="timeline">
            {items.map((i) => (
              <li data-kind={i.kind} data-id={i.id}>
                <div class="when muted">
                  <time datetime={i.at}>{when(i)}</time>
                  {i.clinicName && ` · ${i.clinicName}`}
                </div>
                <div>
                  <strong>{t.doctor2.kinds[i.kind] ?? i.kind}</strong> <ItemBody c={c} item={i} />
                </div>
                {i.kind === 'lab-report' && (
                  <>
                    <ul class="plain">
                      {i.results.map((r) => (
                        <li data-loinc={r.loinc} data-flag={r.flag}>
                          {r.name}: {r.value} {r.unit}
                          {r.flag !== 'N' && <span class={`flag-${r.flag}`}> {t.flags[r.flag] ?? r.flag}</span>}
                        </li>
                      ))}
                    </ul>
                    {(cards.get(i.id) ?? []).map((card) => (
                      <p class={`cds-card indicator-${card.indicator ?? 'info'}`}>{card.summary}</p>
                    ))}
                  </>
                )}
              </li>
            ))}
          </ol>
        )}
        {recordPage.next && (
          <p>
            <a href={`/doctor/patients/${patientId}?cursor=${encodeURIComponent(encodeCursor(recordPage.next))}`}>{t.doctor2.olderItems}</a>
          </p>
        )}
      </Layout>,
    );
  }

  function renderBreakGlass(c: WebContext, patientId: string, view: { reason?: string; error?: string }, status: 400 | 403) {
    const t = c.get('t');
    return c.html(
      <Layout c={c} title={t.doctor2.breakGlassTitle} error={status === 403 ? staffText(c, 'no_care_relationship') : undefined}>
        <p>{t.doctor2.breakGlassIntro}</p>
        <form method="post" action={`/doctor/patients/${patientId}/break-glass`} class="break-glass">
          <CsrfField c={c} />
          <label for="reason">{t.doctor2.breakGlassReason}</label>
          <p id="reason-help" class="muted">
            {t.doctor2.breakGlassHelp}
          </p>
          <textarea
            id="reason"
            name="reason"
            rows={3}
            required
            maxlength={500}
            aria-describedby="reason-help reason-error"
            aria-invalid={view.error ? 'true' : undefined}
          >
            {view.reason ?? ''}
          </textarea>
          <p id="reason-error" class="field-error">
            {view.error ?? ''}
          </p>
          <div class="actions">
            <button type="submit" class="danger">
              {t.doctor2.breakGlass}
            </button>
          </div>
        </form>
      </Layout>,
      status,
    );
  }

  web.get(
    '/doctor/patients/:id',
    doctor,
    page(async (c) => {
      const id = idParam(c, 'id', 'not_found');
      const cursor = c.req.query('cursor');
      if (cursor && !decodeCursor(cursor)) throw new ApiError(400, 'validation_failed', 'The cursor is not one this page handed out.');
      try {
        await canReadPatientRecord(asApi(c), db, id, { type: 'PatientRecord', id });
      } catch (err) {
        if (err instanceof ApiError && err.code === 'no_care_relationship') return renderBreakGlass(c, id, {}, 403);
        throw err;
      }
      return renderRecord(c, id, cursor);
    }),
  );

  web.post(
    '/doctor/patients/:id/break-glass',
    doctor,
    checkCsrf,
    page(async (c) => {
      const id = idParam(c, 'id', 'not_found');
      const reason = ((await formOf(c)).reason ?? '').trim();
      try {
        // An empty reason would fall back to the (absent) header: state it as given, so it is refused as too short.
        await canReadPatientRecord(asApi(c), db, id, { type: 'PatientRecord', id }, reason);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'validation_failed')
          return renderBreakGlass(c, id, { reason, error: c.get('t').doctor2.breakGlassShort }, 400);
        throw err;
      }
      return renderRecord(c, id, undefined, c.get('t').doctor2.breakGlassShown);
    }),
  );
}

const staffText = (c: WebContext, code: string) => c.get('t').doctor2.errors[code] ?? code;

function ItemBody(props: { c: WebContext; item: Named }) {
  const t = props.c.get('t');
  const i = props.item;
  switch (i.kind) {
    case 'appointment':
      return (
        <span>
          {t.appointmentStatus[i.status] ?? i.status}
          {i.practitionerName && ` · ${i.practitionerName}`}
        </span>
      );
    case 'referral':
      return (
        <span>
          <a href={`/doctor/referrals/${i.id}`}>{i.specialty}</a> · {t.referralStatus[i.status] ?? i.status}
          {i.icd10 && ` · ${i.icd10}`}
          {i.breached && <strong> · {t.breached}</strong>}
        </span>
      );
    case 'lab-report':
      return (
        <span>
          {(i.testNames ?? i.tests).join(', ')}
          {i.amended && ` (${t.amended})`}
        </span>
      );
    case 'critical-event':
      return <span>{t.doctor2.criticalEvents[i.event] ?? i.event}</span>;
    case 'cds-assessment':
      return (
        <span>
          {i.serviceId}
          {i.band && ` · ${i.band}`}
          {i.score !== null && ` · ${Math.round(i.score * 100)}%`}
        </span>
      );
    case 'diagnosis':
      return (
        <span>
          {i.code} {i.title}
        </span>
      );
    default:
      return null;
  }
}
