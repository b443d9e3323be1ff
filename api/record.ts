/**
 * The patient's record across every clinic (JSON or a FHIR R4 searchset Bundle), who read it,
 * and the ops views of the access audit. Access is decided in api/access.ts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { auditPage, type AuditRow } from '../db/audit';
import { patientRecordPage } from '../db/record';
import { decodeCursor, encodeCursor, RECORD_KINDS, recordBundle } from '../domain/record';
import { newRouter, type ApiDeps } from './router';
import { requireRole, type Caller } from './auth';
import { canReadPatientRecord } from './access';
import { nameRecordItems } from './record-names';
import { ApiError, errorResponse } from './errors';

const Uuid = z.string().uuid();
const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const AUTH_ERRORS = {
  401: errorResponse('No or invalid token'),
  403: errorResponse('Role not allowed / not your record / no_care_relationship / wrong_clinic'),
};

const RecordItemSchema = z
  .object({ kind: z.enum(RECORD_KINDS), id: z.string(), at: z.string().datetime() })
  .passthrough()
  .openapi('RecordItem');
const RecordPageSchema = z
  .object({ patientId: Uuid, items: z.array(RecordItemSchema), nextCursor: z.string().nullable() })
  .openapi('PatientRecord');
const BundleSchema = z
  .object({
    resourceType: z.literal('Bundle'),
    type: z.literal('searchset'),
    link: z.array(z.object({ relation: z.string(), url: z.string() })),
    entry: z.array(z.object({ resource: z.object({ resourceType: z.string() }).passthrough() }).passthrough()),
  })
  .passthrough()
  .openapi('FhirBundle');
const AuditEntrySchema = z
  .object({
    id: z.string(),
    at: z.string().datetime(),
    userId: z.string(),
    action: z.string().openapi({ description: 'read, write, break-the-glass, or refused (what was asked is in attempted)' }),
    outcome: z.enum(['allowed', 'refused']),
    attempted: z.string().nullable(),
    resourceType: z.string(),
    resourceId: z.string(),
    patientId: z.string().nullable(),
    role: z.string().nullable(),
    clinicIds: z.array(z.string()),
    route: z.string().nullable(),
    requestId: z.string().nullable(),
    reason: z.string().nullable(),
  })
  .openapi('AuditEntry');
const AuditPageSchema = z.object({ entries: z.array(AuditEntrySchema), nextCursor: z.string().nullable() }).openapi('AuditPage');
const PageQuery = z.object({ cursor: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) });

export function auditView(r: AuditRow) {
  const d = (r.details ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    id: r.id,
    at: r.at.toISOString(),
    userId: r.actor,
    action: r.action,
    outcome: r.outcome,
    attempted: str(d.attempted),
    resourceType: r.entity,
    resourceId: r.entity_id,
    patientId: str(d.patientId),
    role: str(d.role),
    clinicIds: Array.isArray(d.clinicIds) ? d.clinicIds.filter((x): x is string => typeof x === 'string') : [],
    route: str(d.route),
    requestId: str(d.requestId),
    reason: str(d.reason),
  };
}

/** Audit cursors: the last row's id, opaque to callers. */
const auditCursor = (r: AuditRow) => Buffer.from(`audit:${r.id}`).toString('base64url');
function readAuditCursor(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const m = /^audit:(\d{1,18})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (m) return m[1];
  throw new ApiError(400, 'validation_failed', 'The cursor is not one this API handed out.');
}

/** Who may read a patient's access log: the patient themselves (the role gate lets ops and admin in too). */
export function assertMayReadAccessLog(caller: Caller, patientId: string): void {
  if (caller.role !== 'patient' && caller.role !== 'ops' && caller.role !== 'admin')
    throw new ApiError(403, 'forbidden', 'This role does not read access logs.');
  if (caller.role === 'patient' && caller.patientId !== patientId)
    throw new ApiError(403, 'forbidden', 'Patients see only who read their own record.');
}

export function recordRouter(deps: ApiDeps) {
  const { db, config } = deps;
  const readers = requireRole(config, 'patient', 'registrar', 'doctor', 'admin');
  const ownerOrOps = requireRole(config, 'patient', 'ops', 'admin');
  const ops = requireRole(config, 'ops', 'admin');
  const router = newRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/patients/{id}/record',
      summary: "The patient's record across every clinic, newest first, paged (JSON or ?format=fhir: a FHIR R4 searchset Bundle)",
      description:
        'Patients read their own; doctors and registrars with a care relationship; others only with an X-Break-Glass-Reason header (≥ 10 characters), which is audited and reported to ops.',
      security: [{ bearer: [] }],
      middleware: [readers] as const,
      request: {
        params: z.object({ id: Uuid }),
        query: PageQuery.extend({ format: z.enum(['json', 'fhir']).default('json') }),
        headers: z.object({
          'x-break-glass-reason': z
            .string()
            .max(500)
            .optional()
            .openapi({ param: { name: 'x-break-glass-reason', in: 'header' }, example: 'Unconscious in A&E, no relationship on file' }),
        }),
      },
      responses: {
        200: json(
          z.union([RecordPageSchema, BundleSchema]),
          "A page of the record; nextCursor (or the Bundle's next link) fetches the next",
        ),
        400: errorResponse('Malformed id, query, cursor or break-the-glass reason'),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const cursor = q.cursor ? decodeCursor(q.cursor) : null;
      if (q.cursor && !cursor) throw new ApiError(400, 'validation_failed', 'The cursor is not one this API handed out.');
      await canReadPatientRecord(c, db, id, { type: 'PatientRecord', id });
      const page = await patientRecordPage(db, id, cursor, q.limit);
      const nextCursor = page.next ? encodeCursor(page.next) : null;
      if (q.format === 'fhir') {
        const base = `/patients/${id}/record?format=fhir&limit=${q.limit}`;
        return c.json(
          recordBundle(id, page.items, {
            self: q.cursor ? `${base}&cursor=${q.cursor}` : base,
            ...(nextCursor ? { next: `${base}&cursor=${nextCursor}` } : {}),
          }) as z.infer<typeof BundleSchema>,
          200,
        );
      }
      return c.json({ patientId: id, items: await nameRecordItems(db, page.items), nextCursor }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/patients/{id}/record/access-log',
      summary: "Who read or changed this patient's data, when, and with what stated reason (the patient, ops, admin)",
      security: [{ bearer: [] }],
      middleware: [ownerOrOps] as const,
      request: { params: z.object({ id: Uuid }), query: PageQuery },
      responses: {
        200: json(AuditPageSchema, 'Access entries, newest first'),
        400: errorResponse('Malformed id or cursor'),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      assertMayReadAccessLog(c.get('caller'), id);
      const q = c.req.valid('query');
      const rows = await auditPage(db, { patientId: id, before: readAuditCursor(q.cursor), limit: q.limit + 1 });
      const page = rows.slice(0, q.limit);
      return c.json({ entries: page.map(auditView), nextCursor: rows.length > q.limit ? auditCursor(page[page.length - 1]!) : null }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/ops/audit',
      summary: 'The audit log by patient and/or user, newest first (ops, admin)',
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: { query: PageQuery.extend({ patientId: Uuid.optional(), userId: z.string().min(1).max(200).optional() }) },
      responses: {
        200: json(AuditPageSchema, 'Audit entries, newest first'),
        400: errorResponse('Malformed query or cursor, or neither patientId nor userId'),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      if (!q.patientId && !q.userId) throw new ApiError(400, 'validation_failed', 'Name a patientId or a userId.');
      const rows = await auditPage(db, { patientId: q.patientId, userId: q.userId, before: readAuditCursor(q.cursor), limit: q.limit + 1 });
      const page = rows.slice(0, q.limit);
      return c.json({ entries: page.map(auditView), nextCursor: rows.length > q.limit ? auditCursor(page[page.length - 1]!) : null }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/ops/break-glass',
      summary: 'Break-the-glass reads, newest first, with their stated reasons (ops, admin)',
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: { query: PageQuery },
      responses: {
        200: json(AuditPageSchema, 'Break-the-glass entries, newest first'),
        400: errorResponse('Malformed cursor'),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await auditPage(db, { action: 'break-the-glass', before: readAuditCursor(q.cursor), limit: q.limit + 1 });
      const page = rows.slice(0, q.limit);
      return c.json({ entries: page.map(auditView), nextCursor: rows.length > q.limit ? auditCursor(page[page.length - 1]!) : null }, 200);
    },
  );

  return router;
}
