/**
 * The lab order's steps as commands: the JSON routes (lab.ts, orders.ts) and the pages (web/pages/lab*.tsx,
 * web/pages/doctor-*.tsx) both call these, so access rules, audit and the process's refusals are one code path.
 */
import type { Context } from 'hono';
import type { ReadBack, RejectionReason } from '../../domain/lab-order';
import {
  acknowledgeUpdate,
  collectSpecimenUpdate,
  postResultsUpdate,
  receiveSpecimenUpdate,
  rejectSpecimenUpdate,
} from '../../workflows/lab-order';
import { ApiError } from '../errors';
import type { ApiDeps, AppEnv } from '../router';
import { auditedOrder, presentOrder, sendUpdate } from './shared';

type Ctx = Context<AppEnv>;
export interface ResultInput {
  loinc: string;
  value: unknown;
  unit: string;
  status?: 'preliminary' | 'final' | 'corrected';
}

export function labOrderCommands(deps: Pick<ApiDeps, 'db' | 'temporal'>) {
  const { db, temporal } = deps;
  return {
    /** Specimen collected with its barcode (the lab of the order's clinic). */
    async collect(c: Ctx, id: string, barcode: string) {
      const row = await auditedOrder(c, db, id, 'lab');
      await sendUpdate(temporal, row, (h) => h.executeUpdate(collectSpecimenUpdate, { args: [{ barcode, by: c.get('caller').id }] }));
      return presentOrder(db, row.id);
    },
    /** Specimen received by the lab. */
    async receive(c: Ctx, id: string) {
      const row = await auditedOrder(c, db, id, 'lab');
      await sendUpdate(temporal, row, (h) => h.executeUpdate(receiveSpecimenUpdate, { args: [{ by: c.get('caller').id }] }));
      return presentOrder(db, row.id);
    },
    /** Specimen rejected: back to collection (a recollection), or cancelled past the policy's limit. */
    async reject(c: Ctx, id: string, reason: RejectionReason) {
      const row = await auditedOrder(c, db, id, 'lab');
      await sendUpdate(temporal, row, (h) => h.executeUpdate(rejectSpecimenUpdate, { args: [{ reason, by: c.get('caller').id }] }));
      return presentOrder(db, row.id);
    },
    /** Results, validated by the process before they enter history; `key` makes a repeat a no-op. */
    async postResults(c: Ctx, id: string, results: ResultInput[], key?: string) {
      const row = await auditedOrder(c, db, id, 'lab');
      const by = c.get('caller').id;
      const answer = await sendUpdate(temporal, row, (h) =>
        h.executeUpdate(postResultsUpdate, {
          args: [{ results, by, source: 'json' }],
          ...(key ? { updateId: `results:${by}:${key}` } : {}),
        }),
      );
      return { ...answer, order: await presentOrder(db, row.id) };
    },
    /** The ordering or covering doctor acknowledges final results; critical values need their read-back. */
    async acknowledge(c: Ctx, id: string, readBack: ReadBack[]) {
      const caller = c.get('caller');
      const row = await auditedOrder(c, db, id, 'acknowledging-doctor');
      const practitionerId = caller.practitionerId ?? (caller.role === 'admin' ? row.ordering_practitioner_id : '');
      await sendUpdate(temporal, row, (h) => h.executeUpdate(acknowledgeUpdate, { args: [{ practitionerId, readBack }] })).catch(
        (err: unknown) => {
          // The process names the critical result it refused; one the doctor did not read back at all is "required", not "does not match".
          const loinc =
            err instanceof ApiError && err.code === 'read_back_mismatch'
              ? (err.details as { loinc?: unknown } | undefined)?.loinc
              : undefined;
          if (typeof loinc === 'string' && !readBack.some((b) => b.loinc === loinc)) {
            throw new ApiError(
              422,
              'read_back_required',
              `Critical result ${loinc} must be read back (its value and unit) before the results are acknowledged.`,
              { loinc },
            );
          }
          throw err;
        },
      );
      return presentOrder(db, row.id);
    },
  };
}
export type LabOrderCommands = ReturnType<typeof labOrderCommands>;
