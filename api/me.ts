/**
 * `GET /me`: who the token names, so a screen can greet its user and scope itself: the role, the
 * clinics (with names and zones), and the caller's own patient or practitioner record.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { lookupNames } from '../db/names';
import { callerClinics } from './access';
import { requireRole, ROLES } from './auth';
import { errorResponse } from './errors';
import { newRouter, type ApiDeps } from './router';

const Uuid = z.string().uuid();
const ClinicRefSchema = z.object({ id: Uuid, name: z.string(), timeZone: z.string() }).openapi('ClinicRef');
const MeSchema = z
  .object({
    userId: z.string(),
    role: z.enum(ROLES),
    clinics: z.array(ClinicRefSchema).openapi({
      description:
        "The clinics the token acts for (a doctor: their practitioner's clinic; a patient: their home clinic); empty for ops and admin",
    }),
    patient: z
      .object({
        id: Uuid,
        fullName: z.string(),
        birthDate: z.string(),
        sex: z.string(),
        policyNumber: z.string().nullable(),
        homeClinicId: Uuid.nullable(),
        homeClinicName: z.string().nullable(),
      })
      .nullable(),
    practitioner: z.object({ id: Uuid, fullName: z.string(), specialty: z.string(), clinicId: Uuid, clinicName: z.string() }).nullable(),
  })
  .openapi('Me');

export function meRouter(deps: ApiDeps) {
  const { db, config } = deps;
  const anyone = requireRole(config, ...ROLES);
  const router = newRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/me',
      summary: 'Who I am: my role, my clinics, my patient or practitioner record',
      security: [{ bearer: [] }],
      middleware: [anyone] as const,
      responses: {
        200: { description: 'The caller', content: { 'application/json': { schema: MeSchema } } },
        401: errorResponse('No or invalid token'),
        403: errorResponse('Role not allowed'),
      },
    }),
    async (c) => {
      const caller = c.get('caller');
      const [patient, practitioner] = await Promise.all([
        caller.patientId
          ? db
              .selectFrom('patients')
              .select(['id', 'full_name', 'birth_date', 'sex', 'policy_number', 'home_clinic_id'])
              .where('id', '=', caller.patientId)
              .executeTakeFirst()
          : undefined,
        caller.practitionerId
          ? db
              .selectFrom('practitioners')
              .select(['id', 'full_name', 'specialty', 'clinic_id'])
              .where('id', '=', caller.practitionerId)
              .executeTakeFirst()
          : undefined,
      ]);
      const clinicIds = [...callerClinics(caller)];
      if (practitioner && !clinicIds.includes(practitioner.clinic_id)) clinicIds.push(practitioner.clinic_id);
      if (caller.role === 'patient' && patient?.home_clinic_id) clinicIds.push(patient.home_clinic_id);
      const names = await lookupNames(db, { clinics: clinicIds });
      return c.json(
        {
          userId: caller.id,
          role: caller.role,
          // A clinic the token names but the database does not know is left out rather than named wrongly.
          clinics: clinicIds.flatMap((id) => {
            const n = names.clinic(id);
            return n ? [{ id, name: n.name, timeZone: n.timeZone }] : [];
          }),
          patient: patient
            ? {
                id: patient.id,
                fullName: patient.full_name,
                birthDate: patient.birth_date,
                sex: patient.sex,
                policyNumber: patient.policy_number,
                homeClinicId: patient.home_clinic_id,
                homeClinicName: names.clinic(patient.home_clinic_id)?.name ?? null,
              }
            : null,
          practitioner: practitioner
            ? {
                id: practitioner.id,
                fullName: practitioner.full_name,
                specialty: practitioner.specialty,
                clinicId: practitioner.clinic_id,
                clinicName: names.clinic(practitioner.clinic_id)?.name ?? '',
              }
            : null,
        },
        200,
      );
    },
  );

  return router;
}
