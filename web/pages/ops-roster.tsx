/**
 * The on-call roster per clinic for ops: who covers, who heads a department, who leads the clinic's onboarding, for
 * which window; add and remove entries; the change trail below. Adding and removing run the API's own rules
 * (addCheckedRosterEntry / removeCheckedRosterEntry in api/notify-ops.ts, behind POST and DELETE /ops/on-call), so a
 * refusal here is the API's refusal: its code shown at the form, nothing written.
 */
import type { Hono } from 'hono';
import { ApiError } from '../../api/errors';
import { addCheckedRosterEntry, removeCheckedRosterEntry } from '../../api/notify-ops';
import type { ApiDeps } from '../../api/router';
import { clinicPractitioners, clinicsOverview } from '../../db/desk-ops';
import { clinicRosterAudit, listRoster } from '../../db/notify';
import { instantOfLocalDateTime } from '../../domain/calendar';
import { localDateTime } from '../../domain/time';
import type { WebContext, WebEnv } from '../env';
import { formatDateTime } from '../i18n';
import { CsrfField, Layout } from '../layout';
import { checkCsrf, formOf, page } from './common';
import { UUID } from './lab-common';
import { OpsNav, opsOnly } from './ops-shared';

const ROLES = ['covering', 'head', 'onboarding-lead'] as const;
const FIELDS = ['department', 'role', 'practitionerId', 'startsAt', 'endsAt'] as const;
type Field = (typeof FIELDS)[number];

/** A time on the clinic's clock, with its error under it (the window's start and end). */
function ClinicTimeField(p: { name: 'startsAt' | 'endsAt'; label: string; value: string; error?: string }) {
  return (
    <>
      <label for={p.name}>{p.label}</label>
      <input
        id={p.name}
        name={p.name}
        type="datetime-local"
        required
        value={p.value}
        aria-invalid={p.error !== undefined ? 'true' : undefined}
        aria-describedby={`${p.name}-error`}
      />
      <p id={`${p.name}-error`} class="field-error">
        {p.error ?? ''}
      </p>
    </>
  );
}

interface RosterView {
  notice?: string;
  error?: string;
  values?: Record<string, string>;
  fieldErrors?: Partial<Record<Field, string>>;
}

export function rosterPages(web: Hono<WebEnv>, deps: ApiDeps) {
  const { db } = deps;

  /** The clinic asked for, else the first by code (a roster is always one clinic's). */
  async function clinicOf(clinicId: string | undefined) {
    const clinics = await clinicsOverview(db);
    const clinic = clinicId ? clinics.find((cl) => cl.id === clinicId) : clinics[0];
    if (!clinic) throw new ApiError(404, 'clinic_not_found', 'No such clinic.');
    return { clinics, clinic };
  }

  async function render(c: WebContext, clinicId: string | undefined, view: RosterView, status: 200 | 400 | 409 = 200) {
    const n = c.get('t').opsNotify;
    const lang = c.get('lang');
    const { clinics, clinic } = await clinicOf(clinicId);
    const zone = clinic.time_zone;
    const [entries, audit, practitioners] = await Promise.all([
      listRoster(db, clinic.id),
      clinicRosterAudit(db, clinic.id),
      clinicPractitioners(db, clinic.id),
    ]);
    const departments = ['*', ...new Set(practitioners.map((p) => p.specialty))];
    const dept = (d: string) => (d === '*' ? n.wholeClinic : d);
    const local = (d: Date) => <time datetime={d.toISOString()}>{formatDateTime(lang, d, zone)}</time>;
    const v = view.values ?? {};
    const fe = view.fieldErrors ?? {};
    const invalid = (f: Field) => (fe[f] !== undefined ? 'true' : undefined);
    // A new shift starts at the next whole hour on the clinic's clock and lasts a day, unless the form came back.
    const nextHour = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
    const startDefault = v.startsAt ?? localDateTime(nextHour, zone);
    const endDefault = v.endsAt ?? localDateTime(new Date(nextHour.getTime() + 86_400_000), zone);
    return c.html(
      <Layout c={c} title={`${n.rosterTitle}: ${clinic.code}`} notice={view.notice} error={view.error}>
        <OpsNav c={c} at="roster" />
        <p class="muted">{n.rosterIntro}</p>
        <form method="get" action="/ops/roster" class="grid search">
          <div>
            <label for="clinic">{n.chooseClinic}</label>
            <select id="clinic" name="clinicId">
              {clinics.map((cl) => (
                <option value={cl.id} selected={cl.id === clinic.id}>{`${cl.code} · ${cl.name}`}</option>
              ))}
            </select>
          </div>
          <div>
            <button type="submit" class="secondary">
              {n.show}
            </button>
          </div>
        </form>

        <h2 id="entries-title">{n.rosterTitle}</h2>
        {entries.length ? (
          <div class="table-scroll" tabindex={0} role="region" aria-labelledby="entries-title">
            <table class="roster" aria-labelledby="entries-title">
              <thead>
                <tr>
                  <th scope="col">{n.department}</th>
                  <th scope="col">{n.role}</th>
                  <th scope="col">{n.practitioner}</th>
                  <th scope="col">{`${n.window} (${n.clinicTime(zone)})`}</th>
                  <th scope="col">{n.addedBy}</th>
                  <th scope="col">{n.remove}</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr data-entry={e.id} data-role={e.role} data-practitioner={e.practitioner_id}>
                    <td>{dept(e.department)}</td>
                    <td>{n.roles[e.role] ?? e.role}</td>
                    <th scope="row">{e.full_name}</th>
                    <td>
                      {local(e.starts_at)} – {local(e.ends_at)}
                    </td>
                    <td>{e.created_by}</td>
                    <td>
                      <form method="post" action={`/ops/roster/${e.id}/remove`} class="inline">
                        <CsrfField c={c} />
                        <input type="hidden" name="clinicId" value={clinic.id} />
                        <button type="submit" class="danger" aria-label={n.removeEntry(e.full_name, n.roles[e.role] ?? e.role)}>
                          {n.remove}
                        </button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p>{n.noEntries}</p>
        )}

        <form method="post" action="/ops/roster" class="roster-add" aria-labelledby="add-title">
          <h2 id="add-title">{n.addTitle}</h2>
          <CsrfField c={c} />
          <input type="hidden" name="clinicId" value={clinic.id} />
          <label for="department">{n.department}</label>
          <select id="department" name="department" aria-invalid={invalid('department')} aria-describedby="department-error">
            {departments.map((d) => (
              <option value={d} selected={v.department === d}>
                {dept(d)}
              </option>
            ))}
          </select>
          <p id="department-error" class="field-error">
            {fe.department ?? ''}
          </p>
          <label for="role">{n.role}</label>
          <select id="role" name="role" aria-invalid={invalid('role')} aria-describedby="role-error">
            {ROLES.map((r) => (
              <option value={r} selected={v.role === r}>
                {n.roles[r]}
              </option>
            ))}
          </select>
          <p id="role-error" class="field-error">
            {fe.role ?? ''}
          </p>
          <label for="practitionerId">{n.practitioner}</label>
          <select id="practitionerId" name="practitionerId" aria-invalid={invalid('practitionerId')} aria-describedby="practitioner-error">
            {practitioners.map((p) => (
              <option value={p.id} selected={v.practitionerId === p.id}>{`${p.full_name} · ${p.specialty}`}</option>
            ))}
          </select>
          <p id="practitioner-error" class="field-error">
            {fe.practitionerId ?? ''}
          </p>
          <ClinicTimeField name="startsAt" label={`${n.from} (${n.clinicTime(zone)})`} value={startDefault} error={fe.startsAt} />
          <ClinicTimeField name="endsAt" label={`${n.to} (${n.clinicTime(zone)})`} value={endDefault} error={fe.endsAt} />
          <div class="actions">
            <button type="submit">{n.add}</button>
          </div>
        </form>

        <h2 id="audit-title">{n.auditTitle}</h2>
        {audit.length ? (
          <div class="table-scroll" tabindex={0} role="region" aria-labelledby="audit-title">
            <table class="roster-audit" aria-labelledby="audit-title">
              <thead>
                <tr>
                  <th scope="col">{n.at}</th>
                  <th scope="col">{n.actor}</th>
                  <th scope="col">{n.action}</th>
                  <th scope="col">{n.entry}</th>
                </tr>
              </thead>
              <tbody>
                {audit.map((a) => (
                  <tr data-entry={a.entity_id} data-action={a.action}>
                    <td>
                      <time datetime={a.at.toISOString()}>{formatDateTime(lang, a.at, 'UTC')}</time>
                    </td>
                    <td>{a.actor}</td>
                    <td>{n.actions[a.action] ?? a.action}</td>
                    <td>
                      {dept(a.department)} · {n.roles[a.role] ?? a.role} · {a.full_name} · {local(a.starts_at)} – {local(a.ends_at)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p>{n.noAudit}</p>
        )}
      </Layout>,
      status,
    );
  }

  const queryClinic = (c: WebContext) => {
    const id = c.req.query('clinicId');
    return id && UUID.test(id) ? id : undefined;
  };

  web.get(
    '/ops/roster',
    opsOnly,
    page(async (c) => {
      const n = c.get('t').opsNotify;
      const done = ({ added: n.added, removed: n.removed } as Record<string, string>)[c.req.query('done') ?? ''];
      return render(c, queryClinic(c), { notice: done });
    }),
  );

  web.post(
    '/ops/roster',
    opsOnly,
    checkCsrf,
    page(async (c) => {
      const n = c.get('t').opsNotify;
      const form = await formOf(c);
      const { clinic } = await clinicOf(UUID.test(form.clinicId ?? '') ? form.clinicId : '-');
      // The form speaks the clinic's wall clock; the API takes instants.
      const instant = (s: string | undefined) =>
        s && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(s) ? instantOfLocalDateTime(s, clinic.time_zone).toISOString() : (s ?? '');
      try {
        await addCheckedRosterEntry(
          db,
          {
            clinicId: clinic.id,
            department: form.department ?? '',
            role: form.role ?? '',
            practitionerId: form.practitionerId ?? '',
            startsAt: instant(form.startsAt),
            endsAt: instant(form.endsAt),
          },
          c.get('caller').id,
        );
        return c.redirect(`/ops/roster?clinicId=${clinic.id}&done=added`, 303);
      } catch (err) {
        if (!(err instanceof ApiError) || !['validation_failed', 'practitioner_not_found'].includes(err.code)) throw err;
        const fieldErrors: RosterView['fieldErrors'] = {};
        if (err.code === 'practitioner_not_found') fieldErrors.practitionerId = n.errors.practitioner_not_found;
        for (const d of Array.isArray(err.details) ? (err.details as Array<{ path?: string; message?: string }>) : []) {
          const field = FIELDS.find((f) => f === d.path);
          if (!field) continue;
          fieldErrors[field] = field === 'endsAt' && d.message === 'Must be after startsAt.' ? n.windowInvalid : n.errors.validation_failed;
        }
        // A refused entry is the visitor's input: 400 whatever the JSON route answers (404 for an unknown practitioner).
        return render(c, clinic.id, { values: form, fieldErrors, error: n.errors[err.code] }, 400);
      }
    }),
  );

  web.post(
    '/ops/roster/:id/remove',
    opsOnly,
    checkCsrf,
    page(async (c) => {
      const n = c.get('t').opsNotify;
      const form = await formOf(c);
      const clinicId = UUID.test(form.clinicId ?? '') ? form.clinicId : undefined;
      const id = c.req.param('id') ?? '';
      try {
        if (!UUID.test(id)) throw new ApiError(404, 'roster_entry_not_found', 'No such roster entry.');
        await removeCheckedRosterEntry(db, id, c.get('caller').id);
        return c.redirect(`/ops/roster?clinicId=${clinicId ?? ''}&done=removed`, 303);
      } catch (err) {
        if (!(err instanceof ApiError) || err.code !== 'roster_entry_not_found') throw err;
        // Already off the roster (another ops person, a second click): the page as it is now, saying so.
        return render(c, clinicId, { error: n.errors.roster_entry_not_found }, 409);
      }
    }),
  );
}
