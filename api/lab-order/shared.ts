/** What the lab order routers share: schemas, access rules per role, the order view, failure mapping. */
import { z } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import type { Context } from 'hono';
import type { Db } from '../../db';
import { currentResults, labOrderRow } from '../../db/lab-order';
import type { LabOrder } from '../../db/schema';
import {
  fhirDiagnosticReportStatus,
  fhirServiceRequest,
  fhirSpecimenStatus,
  type LabOrderStatus,
  type LabPriority,
} from '../../domain/lab-order';
import type { AppEnv } from '../router';
import type { Caller } from '../auth';
import { canActInClinic, noteAccess } from '../access';
import { ApiError, errorResponse, processRefusal } from '../errors';

export const Uuid = z.string().uuid();
export const IdParam = z.object({ id: Uuid });
export const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{8,128}$/, 'Idempotency-Key must be 8–128 letters, digits or _.:-')
    .openapi({ param: { name: 'idempotency-key', in: 'header' }, example: 'lab-order-7f3a-1' }),
});
export const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
export const body = <T extends z.ZodTypeAny>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
export const AUTH_ERRORS = {
  401: errorResponse('No or invalid token'),
  403: errorResponse('Role not allowed, or not your order / patient / clinic'),
};

/** The refusal an Update came back with (api/failures.ts), as an ApiError with the failure's details. */
export function labFailure(err: unknown): ApiError | undefined {
  return processRefusal(err, new ApiError(409, 'invalid_state', "The order's process has ended; it can no longer change."));
}

/** Sends an Update to the order's process; refusals become 4xx. */
export async function sendUpdate<T>(
  temporal: Client,
  row: LabOrder,
  send: (h: ReturnType<Client['workflow']['getHandle']>) => Promise<T>,
): Promise<T> {
  try {
    return await send(temporal.workflow.getHandle(row.workflow_id));
  } catch (err) {
    throw labFailure(err) ?? err;
  }
}

export type Access = 'lab' | 'ordering-doctor' | 'acknowledging-doctor' | 'reader';

/**
 * The order, checked against the caller: a lab only its own clinic's orders; a doctor only the
 * orders they placed (or cover, or were escalated to, to acknowledge); admin and ops anything. 404 when absent.
 */
export async function orderFor(db: Db, caller: Caller, id: string, access: Access): Promise<LabOrder> {
  const row = await labOrderRow(db, id);
  if (!row) throw new ApiError(404, 'lab_order_not_found', `Lab order ${id} does not exist.`);
  if (caller.role === 'admin') return row;
  if (caller.role === 'lab') {
    if (access !== 'lab' && access !== 'reader') throw new ApiError(403, 'forbidden', 'The lab cannot do this.');
    if (!canActInClinic(caller, row.clinic_id)) throw new ApiError(403, 'forbidden', "Labs act only on their own clinic's orders.");
    return row;
  }
  if (caller.role === 'doctor') {
    if (access === 'lab') throw new ApiError(403, 'forbidden', 'Only the lab does this.');
    if (caller.practitionerId === row.ordering_practitioner_id) return row;
    if (access === 'acknowledging-doctor' || access === 'reader') {
      const contacts = await db
        .selectFrom('lab_escalation_contacts')
        .select('covering_practitioner_id')
        .where('clinic_id', '=', row.clinic_id)
        .executeTakeFirst();
      if (contacts?.covering_practitioner_id && contacts.covering_practitioner_id === caller.practitionerId) return row;
      // A doctor a critical value was escalated to (named from the on-call roster when the step fired) may read and acknowledge it.
      const notified = await db
        .selectFrom('lab_critical_notifications')
        .select('lab_order_id')
        .where('lab_order_id', '=', row.id)
        .where('recipient_practitioner_id', '=', caller.practitionerId ?? '')
        .executeTakeFirst();
      if (notified) return row;
    }
    throw new ApiError(403, 'forbidden', 'Doctors act only on the orders they placed (or cover).');
  }
  throw new ApiError(403, 'forbidden', 'This role cannot act on lab orders.');
}

/** orderFor, then the access recorded in the audit log (reads as 'read', everything else as 'write'). */
export async function auditedOrder(c: Context<AppEnv>, db: Db, id: string, access: Access): Promise<LabOrder> {
  // Noted before the check, so a refusal is on record as refused (api/access.ts flushAccessAudit).
  const found = await labOrderRow(db, id);
  if (found)
    noteAccess(c, {
      patientId: found.patient_id,
      resource: { type: 'ServiceRequest', id: found.id },
      action: access === 'reader' ? 'read' : 'write',
    });
  return orderFor(db, c.get('caller'), id, access);
}

export const ResultSchema = z
  .object({
    loinc: z.string(),
    name: z.string(),
    value: z.number(),
    unit: z.string(),
    reportedValue: z.number(),
    reportedUnit: z.string(),
    interpretation: z.enum(['N', 'L', 'H', 'LL', 'HH']),
    referenceRange: z.object({ low: z.number().nullable(), high: z.number().nullable() }),
    status: z.enum(['preliminary', 'final', 'amended', 'corrected']),
    version: z.number().int(),
    resultedAt: z.string().datetime(),
  })
  .openapi('LabResult');

export const LabOrderSchema = z
  .object({
    id: Uuid,
    status: z.string(),
    priority: z.string(),
    patientId: Uuid,
    clinicId: Uuid,
    orderingPractitionerId: Uuid,
    tests: z.array(z.string()),
    note: z.string().nullable(),
    deadlineAt: z.string().datetime().nullable(),
    overdue: z.boolean(),
    barcode: z.string().nullable(),
    createdAt: z.string().datetime(),
    collectedAt: z.string().datetime().nullable(),
    receivedAt: z.string().datetime().nullable(),
    resultedAt: z.string().datetime().nullable(),
    finalAt: z.string().datetime().nullable(),
    acknowledgedAt: z.string().datetime().nullable(),
    ackSeconds: z.number().nullable(),
    rejectionCount: z.number().int(),
    lastRejectionReason: z.string().nullable(),
    cancelReason: z.string().nullable(),
    criticalPending: z.boolean(),
    round: z.number().int(),
    results: z.array(ResultSchema),
    fhir: z.object({ serviceRequest: z.unknown(), specimenStatus: z.string(), diagnosticReportStatus: z.string() }),
  })
  .openapi('LabOrder');

export type ResultRow = Awaited<ReturnType<typeof currentResults>>[number];
export const resultView = (r: ResultRow) => ({
  loinc: r.loinc,
  name: r.name,
  value: r.value,
  unit: r.unit,
  reportedValue: r.reported_value,
  reportedUnit: r.reported_unit,
  interpretation: r.interpretation,
  referenceRange: { low: r.ref_low, high: r.ref_high },
  status: r.status,
  version: r.version,
  resultedAt: r.resulted_at.toISOString(),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The order as Postgres has it now, with its current results and FHIR statuses. */
export async function presentOrder(db: Db, id: string) {
  const row = (await labOrderRow(db, id))!;
  const results = await currentResults(db, [id]);
  const lastRejection =
    row.rejection_count > 0
      ? await db
          .selectFrom('lab_specimen_rejections')
          .select('reason')
          .where('lab_order_id', '=', id)
          .orderBy('attempt', 'desc')
          .executeTakeFirst()
      : undefined;
  const status = row.status as LabOrderStatus;
  return {
    id: row.id,
    status: row.status,
    priority: row.priority,
    patientId: row.patient_id,
    clinicId: row.clinic_id,
    orderingPractitionerId: row.ordering_practitioner_id,
    tests: row.tests,
    note: row.clinical_note,
    deadlineAt: iso(row.deadline_at),
    overdue: row.overdue,
    barcode: row.barcode,
    createdAt: row.created_at.toISOString(),
    collectedAt: iso(row.collected_at),
    receivedAt: iso(row.received_at),
    resultedAt: iso(row.resulted_at),
    finalAt: iso(row.final_at),
    acknowledgedAt: iso(row.acknowledged_at),
    ackSeconds: row.ack_seconds,
    rejectionCount: row.rejection_count,
    lastRejectionReason: lastRejection?.reason ?? null,
    cancelReason: row.cancel_reason,
    criticalPending: row.critical_pending,
    round: row.round,
    results: results.map(resultView),
    fhir: {
      serviceRequest: fhirServiceRequest({
        id: row.id,
        patientId: row.patient_id,
        practitionerId: row.ordering_practitioner_id,
        status,
        priority: row.priority as LabPriority,
        tests: row.tests,
        orderedAt: row.created_at.toISOString(),
        note: row.clinical_note,
      }),
      specimenStatus: fhirSpecimenStatus(status, row.rejection_count > 0 && row.collected_at === null),
      diagnosticReportStatus: fhirDiagnosticReportStatus(status, row.round > 1),
    },
  };
}

export type RouterContext = Context<AppEnv>;
