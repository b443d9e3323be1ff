/** Slot search, appointment reads and lists, day lists, leave and the waitlist. */
import { createRoute, z } from '@hono/zod-openapi';
import { patientAppointments, searchFreeSlots } from '../../db/booking';
import { bookingStatusQuery } from '../../workflows/booking';
import { newRouter } from '../router';
import { canReadPatientRecord } from '../access';
import { ApiError, errorResponse } from '../errors';
import { CursorQuery, cut, decodeCursor, encodeCursor, MoreField, NextCursorField } from '../paging';
import { bookingCommands } from './commands';
import {
  Uuid,
  LocalDate,
  IdempotencyHeader,
  AppointmentSchema,
  AppointmentListSchema,
  SlotSchema,
  LeaveSchema,
  WaitlistSchema,
  json,
  body,
  AUTH_ERRORS,
  type BookingContext,
} from './shared';

/** A patient's appointments answered at most (newest first); `more` says when there are older ones. */
const PATIENT_APPOINTMENTS = 100;

/** A slot search cursor: the last slot's start and id, checked before it reaches SQL. */
function slotCursor(raw: string): { startsAt: string; id: string } {
  const [startsAt, id] = decodeCursor('slots', raw, 2);
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(startsAt!) ||
    Number.isNaN(Date.parse(startsAt!)) ||
    !Uuid.safeParse(id).success
  )
    throw new ApiError(400, 'validation_failed', 'The cursor is not one this API handed out for this list.');
  return { startsAt: startsAt!, id: id! };
}

export function scheduleRoutes(router: ReturnType<typeof newRouter>, ctx: BookingContext) {
  const { db, temporal, anyone, bookers, desk, staff, ownAppointment, presentRows } = ctx;
  const commands = bookingCommands(ctx);

  router.openapi(
    createRoute({
      method: 'get',
      path: '/slots',
      summary: "Free slots between two of the clinic's local dates",
      security: [{ bearer: [] }],
      middleware: [anyone] as const,
      request: {
        query: z.object({
          from: LocalDate,
          to: LocalDate,
          specialty: z.string().min(1).optional(),
          practitionerId: Uuid.optional(),
          clinicId: Uuid.optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          cursor: CursorQuery,
        }),
      },
      responses: {
        200: json(
          z.object({ slots: z.array(SlotSchema), more: MoreField, nextCursor: NextCursorField }),
          'Free slots, earliest first; more and nextCursor when cut at the limit',
        ),
        400: errorResponse('Malformed dates, ids or cursor'),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      if (q.to < q.from) throw new ApiError(400, 'validation_failed', '`to` is before `from`.');
      if (Date.parse(q.to) - Date.parse(q.from) > 62 * 86_400_000)
        throw new ApiError(400, 'validation_failed', 'Search at most 62 days at a time.');
      const after = q.cursor ? slotCursor(q.cursor) : undefined;
      const { page, more } = cut(await searchFreeSlots(db, { ...q, after, limit: q.limit + 1 }), q.limit);
      const last = page[page.length - 1];
      return c.json(
        {
          more,
          nextCursor: more && last ? encodeCursor('slots', [last.starts_at.toISOString(), last.id]) : null,
          slots: page.map((r) => ({
            id: r.id,
            startsAt: r.starts_at.toISOString(),
            endsAt: r.ends_at.toISOString(),
            localStart: r.local_start,
            startsAtLocal: r.local_start,
            timeZone: r.time_zone,
            practitionerId: r.practitioner_id,
            practitionerName: r.practitioner_name,
            specialty: r.specialty,
            clinicId: r.clinic_id,
            clinicName: r.clinic_name,
          })),
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/appointments/{id}',
      summary: 'One appointment, with where its process is',
      security: [{ bearer: [] }],
      middleware: [anyone] as const,
      request: { params: z.object({ id: Uuid }) },
      responses: {
        200: json(
          AppointmentSchema.extend({ process: z.object({ status: z.string(), reminderSent: z.boolean() }).nullable() }),
          'The appointment',
        ),
        400: errorResponse('Malformed id'),
        ...AUTH_ERRORS,
        404: errorResponse('appointment_not_found'),
      },
    }),
    async (c) => {
      const row = await ownAppointment(c, c.req.valid('param').id, 'read');
      // A process the relay has not started yet shows as null.
      const state =
        row.process_started_at === null
          ? null
          : await temporal.workflow
              .getHandle(row.workflow_id)
              .query(bookingStatusQuery)
              .catch(() => null);
      return c.json(
        { ...(await presentRows([row]))[0]!, process: state ? { status: state.status, reminderSent: state.reminderSent } : null },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/patients/{id}/appointments',
      summary: "A patient's appointments, newest first",
      security: [{ bearer: [] }],
      middleware: [anyone] as const,
      request: { params: z.object({ id: Uuid }) },
      responses: { 200: json(AppointmentListSchema, 'Appointments'), 400: errorResponse('Malformed id'), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await canReadPatientRecord(c, db, id, { type: 'AppointmentList', id });
      const { page, more } = cut(await patientAppointments(db, id, PATIENT_APPOINTMENTS + 1), PATIENT_APPOINTMENTS);
      return c.json({ appointments: await presentRows(page), more }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/practitioners/{id}/day',
      summary: "A practitioner's appointments on one local date of their clinic",
      security: [{ bearer: [] }],
      middleware: [staff] as const,
      request: { params: z.object({ id: Uuid }), query: z.object({ date: LocalDate }) },
      responses: {
        200: json(AppointmentListSchema, 'The day list, in time order'),
        400: errorResponse('Malformed id or date'),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const rows = await commands.practitionerDayList(c, c.req.valid('param').id, c.req.valid('query').date);
      return c.json({ appointments: await presentRows(rows), more: false }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/practitioners/{id}/leave',
      summary: "Record leave on the clinic's local dates: closes those slots and lists the visits to move",
      security: [{ bearer: [] }],
      middleware: [desk] as const,
      request: {
        params: z.strictObject({ id: Uuid }),
        ...body(z.strictObject({ startsOn: LocalDate, endsOn: LocalDate, reason: z.string().min(1).max(200) })),
      },
      responses: {
        201: json(LeaveSchema, 'Leave recorded (the same dates again answer with the same record)'),
        400: errorResponse('Malformed request, or endsOn before startsOn'),
        ...AUTH_ERRORS,
        404: errorResponse('practitioner_not_found'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { leave, slotsClosed, affected } = await commands.practitionerLeave(c, id, c.req.valid('json'));
      return c.json(
        {
          id: leave.id,
          practitionerId: id,
          startsOn: leave.starts_on,
          endsOn: leave.ends_on,
          reason: leave.reason,
          slotsClosed,
          appointmentsToMove: await presentRows(affected),
        },
        201,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/waitlist',
      summary: 'Wait for an earlier slot with a practitioner or specialty',
      security: [{ bearer: [] }],
      middleware: [bookers] as const,
      request: {
        headers: IdempotencyHeader,
        ...body(
          z.strictObject({
            patientId: Uuid,
            specialty: z.string().min(1),
            practitionerId: Uuid.optional(),
            clinicId: Uuid.optional(),
            wantedBefore: z.string().datetime({ offset: true }),
          }),
        ),
      },
      responses: {
        201: json(WaitlistSchema, 'On the waitlist'),
        400: errorResponse('Malformed request'),
        ...AUTH_ERRORS,
        404: errorResponse('patient_not_found / practitioner_not_found / clinic_not_found'),
      },
    }),
    async (c) => {
      return c.json(await commands.joinWaitlist(c, c.req.valid('json'), c.req.valid('header')['idempotency-key']), 201);
    },
  );
}
