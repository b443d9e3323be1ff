/** Clinic onboarding and the rollout program. */
import type { RolloutStage, OnboardingTaskStatus } from './core';
import type { ColumnType, Generated } from 'kysely';
import type { Timestamp, CreatedAt, UpdatedAt, Json } from './columns';

export interface OnboardingTasksTable {
  id: Generated<string>;
  clinic_id: string;
  stage: RolloutStage;
  task: string;
  status: OnboardingTaskStatus;
  approved_by: string | null;
  completed_at: Timestamp | null;
  workflow_id: string;
  created_at: CreatedAt;
  title: Generated<string>;
  owner_role: Generated<string>;
  deadline_at: Timestamp | null;
  blocked: Generated<boolean>;
  escalations: Generated<number>;
  updated_at: UpdatedAt;
}

export interface EquipmentItemsTable {
  id: Generated<string>;
  clinic_id: string;
  item_code: string;
  kind: string;
  ordered_at: Timestamp | null;
  delivered_at: Timestamp | null;
  installed_at: Timestamp | null;
  created_at: CreatedAt;
}

export type StaffRole = 'doctor' | 'nurse' | 'registrar' | 'lab' | 'manager';

export interface ClinicStaffTable {
  id: Generated<string>;
  clinic_id: string;
  staff_code: string;
  role: StaffRole;
  trained_at: Timestamp | null;
  certified_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface OnboardingBlockersTable {
  id: string;
  clinic_id: string;
  stage: string;
  description: string;
  reported_by: string;
  reported_at: CreatedAt;
  resolved_by: string | null;
  resolved_at: Timestamp | null;
}

export interface PilotIncidentsTable {
  id: string;
  clinic_id: string;
  blocking: boolean;
  status: 'open' | 'resolved';
  description: string;
  reported_by: string;
  reported_at: CreatedAt;
  resolved_by: string | null;
  resolved_at: Timestamp | null;
}

export interface OnboardingEventsTable {
  id: Generated<string>;
  clinic_id: string;
  workflow_id: string;
  kind: string;
  stage: string;
  details: ColumnType<unknown, string | undefined, never>;
  dedupe_key: string;
  at: CreatedAt;
}

export interface RolloutProgramsTable {
  id: string;
  name: string;
  workflow_id: string;
  pilot_clinic_ids: string[];
  clinic_ids: string[];
  policy: Json;
  created_by: string;
  created_at: CreatedAt;
}
