/**
 * Admin routes for a clinic's working calendar: its country/region for public holidays (versions
 * in force from effectiveFrom) and its closures (closed local dates with a reason). Deadlines read
 * the calendar in force at their start and every closure known when they are computed.
 * Admin role only; every change is audited. See docs/admin-api.md.
 */
import { createRoute, z } from '@hono/zod-openapi';
import Holidays from 'date-holidays';
import { addClinicCalendarVersion, addClosure, clinicCalendarView, clinicZone, removeClosure } from '../../db/clinic-calendar-admin';
import { isLocalDate } from '../../domain/admin-policy';
import { localToday } from '../../domain/time';
import { requireRole } from '../auth';
import { ApiError, errorResponse } from '../errors';
import { newRouter, type ApiDeps } from '../router';
import { Region } from './policies';
import { AtQuery, AUTH_ERRORS, atOf, body, ChangeFields, changeActor, effectiveFrom, json, oneVersionPerInstant, Uuid } from './shared';

const Instant = z.string().datetime();
const CalendarSchema = z
  .object({
    clinicId: Uuid,
    timeZone: z
      .string()
      .openapi({ description: "The clinic's IANA zone (clinics.time_zone): read-only here, slots and bookings share it" }),
    at: Instant,
    inForce: z.object({
      country: z.string(),
      region: z.string().nullable(),
      source: z.enum(['version', 'clinic', 'default']),
      effectiveFrom: Instant.nullable(),
    }),
    versions: z.array(
      z.object({
        id: Uuid,
        country: z.string(),
        region: z.string().nullable(),
        effectiveFrom: Instant,
        createdBy: z.string(),
        createdAt: Instant,
        inForce: z.boolean(),
      }),
    ),
    closures: z.array(z.object({ date: z.string(), reason: z.string() })),
    changes: z
      .array(z.object({ at: Instant, actor: z.string(), entity: z.string(), details: z.unknown() }))
      .openapi({ description: 'The audit trail of calendar and closure changes, newest first' }),
  })
  .openapi('ClinicCalendar');
const SetCalendarSchema = z
  .strictObject({
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'country is an ISO 3166-1 alpha-2 code such as RU')
      .openapi({ example: 'RU' }),
    region: Region.nullable().optional().openapi({
      description: 'ISO 3166-2 subdivision (regional holidays, regional referral policies); null or omitted: none',
      example: 'MOW',
    }),
    ...ChangeFields,
  })
  .openapi('SetClinicCalendar');
const IdParam = z.object({ id: Uuid });
const DateParams = IdParam.extend({
  date: z
    .string()
    .openapi({ param: { name: 'date', in: 'path' }, example: '2026-12-30', description: 'A local date of the clinic, YYYY-MM-DD' }),
});
const ClosureSchema = z
  .object({ clinicId: Uuid, date: z.string(), reason: z.string().nullable(), closed: z.boolean() })
  .openapi('ClinicClosure');
const CLOSURE_ERRORS = { 400: errorResponse('Malformed request'), ...AUTH_ERRORS, 422: errorResponse('invalid_date / closure_in_past') };
const Reason = z.string().min(1).max(500);

const KNOWN_COUNTRIES = new Set(Object.keys(new Holidays().getCountries()));

export function adminClinicsRouter(deps: ApiDeps) {
  const { db, config } = deps;
  const admin = requireRole(config, 'admin');
  const router = newRouter();

  async function zoneOf(clinicId: string): Promise<string> {
    const zone = await clinicZone(db, clinicId);
    if (!zone) throw new ApiError(404, 'clinic_not_found', `Clinic ${clinicId} does not exist.`);
    return zone;
  }
  /** A closure is about a date still to come on the clinic's clock: a past one would rewrite deadlines already reached. */
  function futureDate(date: string, zone: string) {
    const field = { field: 'date' };
    if (!isLocalDate(date)) throw new ApiError(422, 'invalid_date', 'The date must be a real calendar date, YYYY-MM-DD.', field);
    if (date < localToday(zone)) {
      const message = "That date has passed on the clinic's clock; only today or later can be closed or reopened.";
      throw new ApiError(422, 'closure_in_past', message, field);
    }
  }

  router.openapi(
    createRoute({
      method: 'get',
      path: '/admin/clinics/{id}/calendar',
      summary: "A clinic's calendar: country/region in force at `at`, every version, closures, the history of changes",
      security: [{ bearer: [] }],
      middleware: [admin] as const,
      request: { params: IdParam, query: AtQuery },
      responses: {
        200: json(CalendarSchema, 'The calendar'),
        400: errorResponse('Malformed id or query'),
        ...AUTH_ERRORS,
        404: errorResponse('clinic_not_found'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await zoneOf(id);
      return c.json(await clinicCalendarView(db, id, atOf(c.req.valid('query').at)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/admin/clinics/{id}/calendar',
      summary: "Set the clinic's country/region for public holidays, from effectiveFrom (a new version)",
      security: [{ bearer: [] }],
      middleware: [admin] as const,
      request: { params: IdParam, ...body(SetCalendarSchema) },
      responses: {
        200: json(CalendarSchema, 'The calendar after the change'),
        400: errorResponse('Malformed request'),
        ...AUTH_ERRORS,
        404: errorResponse('clinic_not_found'),
        409: errorResponse('version_exists'),
        422: errorResponse('unknown_country / effective_from_in_past'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const b = c.req.valid('json');
      if (!KNOWN_COUNTRIES.has(b.country)) {
        throw new ApiError(422, 'unknown_country', `No public-holiday calendar is known for country ${b.country}.`, { field: 'country' });
      }
      const from = effectiveFrom(b.effectiveFrom);
      await zoneOf(id);
      const version = { clinicId: id, country: b.country, region: b.region ?? null, effectiveFrom: from };
      await oneVersionPerInstant(() => addClinicCalendarVersion(db, version, changeActor(c, b.reason)));
      return c.json(await clinicCalendarView(db, id, new Date()), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/admin/clinics/{id}/closures/{date}',
      summary: 'Close the clinic on a local date (not a working day for deadlines computed from now on)',
      security: [{ bearer: [] }],
      middleware: [admin] as const,
      request: { params: DateParams, ...body(z.strictObject({ reason: Reason })) },
      responses: {
        201: json(ClosureSchema, 'Closed'),
        ...CLOSURE_ERRORS,
        404: errorResponse('clinic_not_found'),
        409: errorResponse('closure_exists'),
      },
    }),
    async (c) => {
      const { id, date } = c.req.valid('param');
      const { reason } = c.req.valid('json');
      futureDate(date, await zoneOf(id));
      if (!(await addClosure(db, { clinicId: id, date, reason }, changeActor(c, reason)))) {
        throw new ApiError(409, 'closure_exists', `The clinic is already closed on ${date}; reopen it first to change the reason.`);
      }
      return c.json({ clinicId: id, date, reason, closed: true }, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/admin/clinics/{id}/closures/{date}',
      summary: 'Reopen a closed local date',
      security: [{ bearer: [] }],
      middleware: [admin] as const,
      request: {
        params: DateParams,
        query: z.object({ reason: Reason.optional().openapi({ description: 'Why: kept in the audit row' }) }),
      },
      responses: { 200: json(ClosureSchema, 'Reopened'), ...CLOSURE_ERRORS, 404: errorResponse('clinic_not_found / closure_not_found') },
    }),
    async (c) => {
      const { id, date } = c.req.valid('param');
      futureDate(date, await zoneOf(id));
      if (!(await removeClosure(db, { clinicId: id, date }, changeActor(c, c.req.valid('query').reason)))) {
        throw new ApiError(404, 'closure_not_found', `The clinic is not closed on ${date}.`);
      }
      return c.json({ clinicId: id, date, reason: null, closed: false }, 200);
    },
  );

  return router;
}
