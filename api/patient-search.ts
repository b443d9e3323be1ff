/**
 * `GET /patients`: the desk and the doctor find a patient by name prefix, birth date or policy
 * number, only among the patients they may see (api/access.ts patientFinder). Each patient
 * answered is recorded in the access audit.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { lookupNames } from '../db/names';
import { searchPatients, type FoundPatient } from '../db/patient-search';
import { auditAccess, patientFinder } from './access';
import { requireRole } from './auth';
import { ApiError, errorResponse } from './errors';
import { CursorQuery, decodeCursor, encodeCursor, MoreField, NextCursorField } from './paging';
import type { Context } from 'hono';
import type { Db } from '../db';
import { newRouter, type ApiDeps, type AppEnv } from './router';

const Uuid = z.string().uuid();
/** Candidates examined per request at most: a search whose matches are mostly out of reach answers `more` rather than scanning on. */
const MAX_EXAMINED = 200;
const BATCH = 50;

const FoundPatientSchema = z
  .object({
    id: Uuid,
    fullName: z.string(),
    birthDate: z.string(),
    sex: z.string(),
    policyNumber: z.string().nullable(),
    homeClinicId: Uuid.nullable(),
    homeClinicName: z.string().nullable(),
  })
  .openapi('FoundPatient');
const PatientSearchSchema = z
  .object({ patients: z.array(FoundPatientSchema), more: MoreField, nextCursor: NextCursorField })
  .openapi('PatientSearch');

const SearchQuery = z.object({
  name: z
    .string()
    .trim()
    .min(2)
    .max(100)
    .optional()
    .openapi({ description: 'A prefix of the full name or of the family name, any case', example: 'orlo' }),
  birthDate: z
    .string()
    .regex(/^(19|20)\d{2}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'must be a date YYYY-MM-DD')
    .optional(),
  policyNumber: z
    .string()
    .regex(/^[0-9 ]{6,24}$/, "must be the policy number's digits")
    .optional()
    .openapi({ example: '7800000000104729' }),
  limit: z.coerce.number().int().min(1).max(50).default(20),
  cursor: CursorQuery,
});

/** A search cursor: the last patient's sort key and id, checked before it reaches SQL. */
function patientCursor(raw: string): { key: string; id: string } {
  const [key, id] = decodeCursor('patients', raw, 2) as [string, string];
  if (!Uuid.safeParse(id).success) throw new ApiError(400, 'validation_failed', 'The cursor is not one this API handed out for this list.');
  return { key, id };
}

export type PatientQuery = z.output<typeof SearchQuery>;

/**
 * The search itself, shared by `GET /patients` and the registrar's desk (web/): only patients the caller may see
 * (api/access.ts patientFinder), each one answered recorded in the access audit.
 */
export async function findPatients(c: Context<AppEnv>, db: Db, q: PatientQuery) {
  const name = q.name?.toLowerCase().replace(/\s+/g, ' ');
  const policyNumber = q.policyNumber?.replace(/ /g, '');
  if (!name && !q.birthDate && !policyNumber)
    throw new ApiError(400, 'validation_failed', 'Name a patient: name, birthDate or policyNumber.');
  let after = q.cursor ? patientCursor(q.cursor) : undefined;
  const mayFind = await patientFinder(db, c.get('caller'));

  const found: FoundPatient[] = [];
  let examined = 0;
  let exhausted = false;
  while (found.length <= q.limit && examined < MAX_EXAMINED) {
    const batch = await searchPatients(db, { name, birthDate: q.birthDate, policyNumber, after, limit: BATCH });
    const allowed = await Promise.all(batch.map((p) => mayFind(p)));
    for (const [i, p] of batch.entries()) {
      after = { key: p.sort_key, id: p.id };
      examined++;
      if (allowed[i]) found.push(p);
      if (found.length > q.limit) break;
    }
    if (batch.length < BATCH) {
      exhausted = found.length <= q.limit;
      break;
    }
  }
  const page = found.slice(0, q.limit);
  const more = found.length > q.limit || !exhausted;
  // Resume after the last patient answered, or after the last one examined when the scan stopped short.
  const last = found.length > q.limit ? page[page.length - 1]! : after;
  const resumeAt = last && 'sort_key' in last ? { key: last.sort_key, id: last.id } : last;
  await Promise.all(page.map((p) => auditAccess(c, db, { patientId: p.id, resource: { type: 'Patient', id: p.id }, action: 'read' })));
  const names = await lookupNames(db, { clinics: page.map((p) => p.home_clinic_id) });
  return {
    patients: page.map((p) => ({
      id: p.id,
      fullName: p.full_name,
      birthDate: p.birth_date,
      sex: p.sex,
      policyNumber: p.policy_number,
      homeClinicId: p.home_clinic_id,
      homeClinicName: names.clinic(p.home_clinic_id)?.name ?? null,
    })),
    more,
    nextCursor: more && resumeAt ? encodeCursor('patients', [resumeAt.key, resumeAt.id]) : null,
  };
}

export function patientSearchRouter(deps: ApiDeps) {
  const { db, config } = deps;
  const searchers = requireRole(config, 'registrar', 'doctor', 'admin');
  const router = newRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/patients',
      summary: 'Find patients by name prefix, birth date or policy number, among those I may see',
      description:
        'Registrars: patients attached to or seen at their clinics. Doctors: their care relationships. Admin: everyone. ' +
        'Criteria combine (AND); at least one is required.',
      security: [{ bearer: [] }],
      middleware: [searchers] as const,
      request: { query: SearchQuery },
      responses: {
        200: { description: 'Matches by name, a page at a time', content: { 'application/json': { schema: PatientSearchSchema } } },
        400: errorResponse('validation_failed: no criterion, or a malformed one or cursor'),
        401: errorResponse('No or invalid token'),
        403: errorResponse('Role not allowed'),
      },
    }),
    async (c) => c.json(await findPatients(c, db, c.req.valid('query')), 200),
  );

  return router;
}
