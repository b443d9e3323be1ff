/**
 * The end of a referral as commands: the specialist who saw the patient posts the report, the
 * referring doctor acknowledges it. `POST /referrals/{id}/report` and `/acknowledge` (api/referral.ts)
 * and the doctor's pages (web/pages/doctor-referral.tsx) call these.
 */
import type { Context } from 'hono';
import type { Referral } from '../db/schema';
import { ICD10 } from '../domain/referral';
import { acknowledgeReportUpdate, postReportUpdate } from '../workflows/referral';
import type { Caller } from './auth';
import { ApiError } from './errors';
import { referralDesk } from './referral-desk';
import type { ApiDeps, AppEnv } from './router';

export interface ReportInput {
  patientId: string;
  conclusion: string;
  icd10: string[];
  recommendations: string;
}

export function doctorOf(caller: Caller): string {
  if (!caller.practitionerId) throw new ApiError(403, 'wrong_practitioner', 'This doctor token names no practitioner.');
  return caller.practitionerId;
}

export function referralReportCommands(deps: Pick<ApiDeps, 'db' | 'temporal'>) {
  const { db } = deps;
  // The referral's row checked against the caller, and its process's Updates: one definition (api/referral-desk.ts).
  const { ownReferral, update } = referralDesk(deps);
  /** Only the specialist who saw the patient (the referral's booked visit) reports, and for the referral's patient. */
  async function assertReportsOn(row: Referral, practitionerId: string, patientId: string): Promise<void> {
    const visit = row.appointment_id
      ? await db.selectFrom('appointments').select('practitioner_id').where('id', '=', row.appointment_id).executeTakeFirst()
      : undefined;
    if (!visit || visit.practitioner_id !== practitionerId)
      throw new ApiError(403, 'wrong_practitioner', 'Only the specialist who saw the patient may post the report.');
    if (patientId !== row.patient_id) throw new ApiError(403, 'wrong_patient', "This report is for another patient than the referral's.");
  }

  return {
    ownReferral,
    /** Posts the specialist's report (once; a repeat is answered the same). Returns the referral's row before the report. */
    async report(c: Context<AppEnv>, id: string, b: ReportInput): Promise<Referral> {
      const row = await ownReferral(c, id);
      const practitionerId = doctorOf(c.get('caller'));
      // Checked here, before the process: a repeated update id is answered from history without its validator.
      await assertReportsOn(row, practitionerId, b.patientId);
      if (!b.icd10.every((code) => ICD10.test(code)))
        throw new ApiError(422, 'invalid_icd10', 'Every ICD-10 code must look like I10 or E11.65.');
      await update(row, (h) =>
        h.executeUpdate(postReportUpdate, {
          args: [{ practitionerId, patientId: b.patientId, conclusion: b.conclusion, icd10: b.icd10, recommendations: b.recommendations }],
          updateId: 'report',
        }),
      );
      return row;
    },
    /** The referring doctor acknowledges the report; the referral closes. Returns whether it was closed already. */
    async acknowledge(c: Context<AppEnv>, id: string): Promise<{ row: Referral; already: boolean }> {
      const row = await ownReferral(c, id);
      const caller = c.get('caller');
      const practitionerId = doctorOf(caller);
      if (practitionerId !== row.referring_practitioner_id)
        throw new ApiError(403, 'wrong_practitioner', 'Only the referring practitioner acknowledges the report.');
      if (row.status === 'closed' && row.acknowledged_at) return { row, already: true };
      await update(row, (h) =>
        h.executeUpdate(acknowledgeReportUpdate, { args: [{ practitionerId, by: caller.id }], updateId: 'acknowledge' }),
      );
      return { row, already: false };
    },
  };
}
