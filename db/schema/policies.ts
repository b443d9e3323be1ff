/** Policy versions set through the admin API (each in force from its effective_from). */
import type { CreatedAt, Timestamp } from './columns';
import type { Generated } from 'kysely';

export interface LabEscalationPoliciesTable {
  id: Generated<string>;
  /** null: city-wide. */
  clinic_id: string | null;
  escalate_covering_seconds: number;
  escalate_head_seconds: number;
  effective_from: Timestamp;
  created_by: string;
  created_at: CreatedAt;
}

export interface LabCriticalRangesTable {
  id: Generated<string>;
  loinc: string;
  critical_low: number | null;
  critical_high: number | null;
  effective_from: Timestamp;
  created_by: string;
  created_at: CreatedAt;
}

export interface ClinicCalendarVersionsTable {
  id: Generated<string>;
  clinic_id: string;
  country: string;
  region: string | null;
  effective_from: Timestamp;
  created_by: string;
  created_at: CreatedAt;
}
