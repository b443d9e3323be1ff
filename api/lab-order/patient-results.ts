/**
 * A patient's released lab reports (final or amended; never preliminary results), checked and
 * audited: the JSON route GET /patients/{id}/lab-results and the patient's results page share it.
 */
import type { Context } from 'hono';
import type { Db } from '../../db';
import { currentResults } from '../../db/lab-order';
import { fhirObservation } from '../../domain/lab-order';
import type { AppEnv } from '../router';
import { auditAccess } from '../access';
import { ApiError } from '../errors';
import { resultView } from './shared';

export async function patientLabReports(c: Context<AppEnv>, db: Db, patientId: string) {
  const caller = c.get('caller');
  if (caller.role === 'patient' && caller.patientId !== patientId)
    throw new ApiError(403, 'forbidden', 'Patients read only their own results.');
  await auditAccess(c, db, { patientId, resource: { type: 'DiagnosticReportList', id: patientId }, action: 'read' });
  const orders = await db
    .selectFrom('lab_orders')
    .select(['id', 'final_at', 'round'])
    .where('patient_id', '=', patientId)
    .where('final_at', 'is not', null)
    .where('status', 'in', ['final', 'acknowledged', 'closed'])
    .$if(caller.role === 'doctor', (q) => q.where('ordering_practitioner_id', '=', caller.practitionerId ?? ''))
    .orderBy('final_at', 'desc')
    .limit(REPORTS_LIMIT + 1)
    .execute();
  const more = orders.length > REPORTS_LIMIT;
  orders.splice(REPORTS_LIMIT);
  const results = (
    await currentResults(
      db,
      orders.map((o) => o.id),
    )
  ).filter((r) => r.status !== 'preliminary');
  const reports = orders.map((o) => {
    const mine = results.filter((r) => r.lab_order_id === o.id);
    return {
      orderId: o.id,
      status: (o.round > 1 ? 'amended' : 'final') as 'final' | 'amended',
      releasedAt: o.final_at!.toISOString(),
      results: mine.map(resultView),
      observations: mine.map((r) =>
        fhirObservation(o.id, patientId, {
          ...resultView(r),
          flag: r.interpretation,
          refLow: r.ref_low,
          refHigh: r.ref_high,
          effective: r.resulted_at.toISOString(),
        }),
      ),
    };
  });
  return { reports, more };
}

/** Released reports answered at most, newest first; `more` says when there are older ones. */
const REPORTS_LIMIT = 200;

export type PatientLabReport = Awaited<ReturnType<typeof patientLabReports>>['reports'][number];
