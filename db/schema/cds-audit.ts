/** CDS assessments and the append-only audit log. */
import type { ColumnType, Generated } from 'kysely';
import type { CreatedAt, Json } from './columns';

export interface CdsAssessmentsTable {
  id: Generated<string>;
  request_key: string;
  service_id: string;
  /** Our patient uuid, or the calling EHR's patient id for CDS Hooks calls. */
  patient_ref: string;
  lab_order_id: string | null;
  model_id: string | null;
  model_version: string | null;
  inputs: Json;
  output: Json;
  score: number | null;
  band: string | null;
  created_at: CreatedAt;
}

export interface AuditLogTable {
  id: Generated<string>;
  at: CreatedAt;
  actor: string;
  action: string;
  entity: string;
  entity_id: string;
  workflow_id: string | null;
  dedupe_key: string | null;
  details: ColumnType<unknown, string | undefined, never>;
  /** 'allowed' (the default) or 'refused': a refused request is never recorded as a change. */
  outcome: ColumnType<AuditOutcome, AuditOutcome | undefined, never>;
}

export type AuditOutcome = 'allowed' | 'refused';
