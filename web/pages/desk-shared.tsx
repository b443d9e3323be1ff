/** What the registrar's desk pages share: the desk's clinic, its sub-menu, the arrivals table's row. */
import { callerClinics } from '../../api/access';
import { ApiError } from '../../api/errors';
import type { Db } from '../../db';
import type { Appointment } from '../../db/schema';
import { CHECK_IN_OPENS_SECONDS } from '../../domain/booking';
import type { WebContext } from '../env';
import { formatTime } from '../i18n';
import { CsrfField } from '../layout';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const KEY = /^[A-Za-z0-9_.:-]{8,128}$/;

export interface DeskClinic {
  id: string;
  name: string;
  timeZone: string;
}

/** The desk's clinic: a registrar's own (the first on the token); admin names one (`?clinic=`) or gets the first by code. */
export async function deskClinic(c: WebContext, db: Db): Promise<DeskClinic> {
  const caller = c.get('caller');
  const asked = c.req.query('clinic');
  const id = caller.role === 'registrar' ? callerClinics(caller)[0] : asked && UUID.test(asked) ? asked : undefined;
  if (caller.role === 'registrar' && !id) throw new ApiError(403, 'wrong_clinic', 'The token names no clinic.');
  const row = await db
    .selectFrom('clinics')
    .select(['id', 'name', 'time_zone'])
    .$if(id !== undefined, (q) => q.where('id', '=', id!))
    .orderBy('code')
    .limit(1)
    .executeTakeFirst();
  if (!row) throw new ApiError(404, 'clinic_not_found', 'No such clinic.');
  return { id: row.id, name: row.name, timeZone: row.time_zone };
}

/** The desk's own menu, the current page marked. */
export function DeskNav(props: { c: WebContext; at: 'desk' | 'referrals' | 'day' | 'leave' }) {
  const d = props.c.get('t').desk;
  const links = [
    ['desk', '/desk'],
    ['referrals', '/desk/referrals'],
    ['day', '/desk/day'],
    ['leave', '/desk/leave'],
  ] as const;
  return (
    <nav aria-label={d.menu} class="subnav">
      <ul>
        {links.map(([key, href]) => (
          <li>
            <a href={href} aria-current={props.at === key ? 'page' : undefined}>
              {d.nav[key]}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** One arrival: time, patient, doctor, status, and check-in (posted in place with htmx, or as a plain form). */
export function ArrivalRow(props: {
  c: WebContext;
  row: Appointment;
  zone: string;
  patient: string;
  doctor: string;
  pending?: boolean;
  error?: string;
}) {
  const { c, row, zone } = props;
  const t = c.get('t');
  const lang = c.get('lang');
  const time = formatTime(lang, row.starts_at, zone);
  const opensAt = new Date(row.starts_at.getTime() - CHECK_IN_OPENS_SECONDS * 1000);
  const open = row.status === 'booked' && Date.now() >= opensAt.getTime();
  return (
    <tr data-appointment={row.id} data-status={props.pending ? 'checking-in' : row.status}>
      <td>
        <time datetime={row.starts_at.toISOString()}>{time}</time>
      </td>
      <td>{props.patient}</td>
      <td>{props.doctor}</td>
      <td class="status">{props.pending ? t.desk.checkInPending : (t.appointmentStatus[row.status] ?? row.status)}</td>
      <td>
        {open && !props.pending && (
          <form
            method="post"
            action={`/desk/appointments/${row.id}/check-in`}
            hx-post={`/desk/appointments/${row.id}/check-in`}
            hx-target="closest tr"
            hx-swap="outerHTML"
            class="inline"
          >
            <CsrfField c={c} />
            <button type="submit" aria-label={t.desk.checkInFor(props.patient, time)}>
              {t.desk.checkIn}
            </button>
          </form>
        )}
        {row.status === 'booked' && !open && <span class="muted">{t.desk.checkInOpensAt(formatTime(lang, opensAt, zone))}</span>}
        {props.error && (
          <p class="field-error" role="alert">
            {props.error}
          </p>
        )}
      </td>
    </tr>
  );
}
