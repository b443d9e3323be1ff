/**
 * One referral on the doctor's tablet: the specialist who saw the patient writes the report, the
 * referring doctor acknowledges it (api/referral-report.ts, the commands behind POST
 * /referrals/{id}/report and /acknowledge). Refusals come back as the API's codes, shown at the field.
 */
import type { Hono } from 'hono';
import { ApiError } from '../../api/errors';
import { referralReportCommands } from '../../api/referral-report';
import type { ApiDeps } from '../../api/router';
import type { Referral } from '../../db/schema';
import { namesFor, patientNames } from '../../db/web-views';
import { referralReport } from '../../db/web-lab-doctor';
import { asApi, type WebContext, type WebEnv } from '../env';
import { formatDateTime } from '../i18n';
import { CsrfField, Layout } from '../layout';
import { checkCsrf, formOf, need, page } from './common';
import { DeliveryList, deliveriesOrNull } from './delivery-status';
import { idParam, staffErrorText } from './lab-common';

interface ReferralView {
  notice?: string;
  error?: string;
  values?: Record<string, string>;
  icd10Error?: string;
}

export function doctorReferralPages(web: Hono<WebEnv>, deps: ApiDeps) {
  const { db } = deps;
  const commands = referralReportCommands(deps);
  const doctor = need('doctor');

  async function render(c: WebContext, row: Referral, view: ReferralView, status: 200 | 403 | 409 | 422 = 200) {
    const t = c.get('t');
    const lang = c.get('lang');
    const me = c.get('caller').practitionerId;
    const visit = row.appointment_id
      ? await db
          .selectFrom('appointments')
          .select(['practitioner_id', 'starts_at', 'clinic_id', 'status'])
          .where('id', '=', row.appointment_id)
          .executeTakeFirst()
      : undefined;
    const [names, patients, report, deliveries] = await Promise.all([
      namesFor(db, {
        clinicIds: [row.clinic_id, visit?.clinic_id ?? row.clinic_id],
        practitionerIds: [row.referring_practitioner_id ?? '', visit?.practitioner_id ?? ''].filter(Boolean),
      }),
      patientNames(db, [row.patient_id]),
      referralReport(db, row.id),
      deliveriesOrNull(c, db, 'referrals', row.id),
    ]);
    const zone = names.clinics.get(visit?.clinic_id ?? row.clinic_id)?.timeZone ?? 'UTC';
    const canReport = !!visit && visit.practitioner_id === me && ['booked', 'attended'].includes(row.status);
    const canAcknowledge = row.referring_practitioner_id === me && row.status === 'reported';
    const v = view.values ?? {};
    return c.html(
      <Layout c={c} title={t.doctor2.referralTitle(row.specialty)} notice={view.notice} error={view.error}>
        <dl class="grid facts" data-referral={row.id} data-status={row.status}>
          <dt>{t.patient}</dt>
          <dd>
            <a href={`/doctor/patients/${row.patient_id}`}>{patients.get(row.patient_id) ?? '—'}</a>
          </dd>
          <dt>{t.doctor2.reason}</dt>
          <dd>
            {row.reason ?? '—'}
            {row.icd10 && ` (${row.icd10})`}
          </dd>
          <dt>{t.doctor2.referredBy}</dt>
          <dd>
            {names.practitioners.get(row.referring_practitioner_id ?? '')?.name ?? '—'} · {names.clinics.get(row.clinic_id)?.name}
          </dd>
          {visit && (
            <>
              <dt>{t.doctor2.visit}</dt>
              <dd>
                <time datetime={visit.starts_at.toISOString()}>{formatDateTime(lang, visit.starts_at, zone)}</time>{' '}
                <span class="muted">({zone})</span> · {names.practitioners.get(visit.practitioner_id)?.name} ·{' '}
                {t.appointmentStatus[visit.status] ?? visit.status}
              </dd>
            </>
          )}
          <dt>{t.status}</dt>
          <dd class="status" data-status={row.status}>
            {t.referralStatus[row.status] ?? row.status}
          </dd>
        </dl>
        {report && (
          <section aria-labelledby="report-title" class="report">
            <h2 id="report-title">{t.doctor2.reportReceived}</h2>
            <p>{report.conclusion}</p>
            <p>
              <strong>{t.doctor2.icd10}:</strong> {(report.icd10 as string[]).join(', ')}
            </p>
            {report.recommendations && (
              <p>
                <strong>{t.doctor2.recommendations}:</strong> {report.recommendations}
              </p>
            )}
          </section>
        )}
        {canReport && !report && (
          <form method="post" action={`/doctor/referrals/${row.id}/report`}>
            <h2>{t.doctor2.reportTitle}</h2>
            <CsrfField c={c} />
            <label for="conclusion">{t.doctor2.conclusion}</label>
            <textarea id="conclusion" name="conclusion" rows={5} required maxlength={5000}>
              {v.conclusion ?? ''}
            </textarea>
            <label for="icd10">{t.doctor2.icd10}</label>
            <p id="icd10-help" class="muted">
              {t.doctor2.icd10Help}
            </p>
            <input
              id="icd10"
              name="icd10"
              required
              autocomplete="off"
              class="code-input"
              value={v.icd10 ?? ''}
              aria-describedby="icd10-help icd10-error"
              aria-invalid={view.icd10Error ? 'true' : undefined}
            />
            <p id="icd10-error" class="field-error">
              {view.icd10Error ?? ''}
            </p>
            <label for="recommendations">{t.doctor2.recommendations}</label>
            <textarea id="recommendations" name="recommendations" rows={3} maxlength={5000}>
              {v.recommendations ?? ''}
            </textarea>
            <div class="actions">
              <button type="submit">{t.doctor2.postReport}</button>
            </div>
          </form>
        )}
        {canAcknowledge && (
          <form method="post" action={`/doctor/referrals/${row.id}/acknowledge`} class="actions">
            <CsrfField c={c} />
            <button type="submit">{t.doctor2.acknowledgeReport}</button>
          </form>
        )}
        <DeliveryList c={c} rows={deliveries} timeZone={zone} />
      </Layout>,
      status,
    );
  }

  const referralId = (c: WebContext) => idParam(c, 'id', 'referral_not_found');

  web.get(
    '/doctor/referrals/:id',
    doctor,
    page(async (c) => {
      const row = await commands.ownReferral(asApi(c), referralId(c), 'read');
      const done = c.req.query('done');
      const t = c.get('t');
      return render(c, row, {
        notice: done === 'report' ? t.doctor2.reportPosted : done === 'acknowledge' ? t.doctor2.reportAcknowledged : undefined,
      });
    }),
  );

  web.post(
    '/doctor/referrals/:id/report',
    doctor,
    checkCsrf,
    page(async (c) => {
      const id = referralId(c);
      const form = await formOf(c);
      const row = await commands.ownReferral(asApi(c), id, 'read');
      const icd10 = (form.icd10 ?? '')
        .split(/[,\s]+/)
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean);
      const conclusion = (form.conclusion ?? '').trim();
      try {
        if (!conclusion || !icd10.length) throw new ApiError(422, 'validation_failed', 'A report needs a conclusion and ICD-10 codes.');
        await commands.report(asApi(c), id, {
          patientId: row.patient_id,
          conclusion,
          icd10,
          recommendations: (form.recommendations ?? '').trim(),
        });
        return c.redirect(`/doctor/referrals/${id}?done=report`, 303);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status === 404) throw err;
        const t = c.get('t');
        const atField = err.code === 'invalid_icd10';
        return render(
          c,
          row,
          {
            values: form,
            icd10Error: atField ? staffErrorText(t, err.code) : undefined,
            error: atField ? undefined : staffErrorText(t, err.code),
          },
          err.status === 403 ? 403 : err.status === 409 ? 409 : 422,
        );
      }
    }),
  );

  web.post(
    '/doctor/referrals/:id/acknowledge',
    doctor,
    checkCsrf,
    page(async (c) => {
      const id = referralId(c);
      try {
        await commands.acknowledge(asApi(c), id);
        return c.redirect(`/doctor/referrals/${id}?done=acknowledge`, 303);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status === 404) throw err;
        const row = await commands.ownReferral(asApi(c), id, 'read');
        return render(c, row, { error: staffErrorText(c.get('t'), err.code) }, err.status === 403 ? 403 : err.status === 409 ? 409 : 422);
      }
    }),
  );
}
