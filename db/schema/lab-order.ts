/** Lab orders, specimens, result versions, critical values, CDS cards and vitals. */
import type { Priority, LabOrderStatus, Interpretation } from './core';
import type { Generated } from 'kysely';
import type { Timestamp, CreatedAt, UpdatedAt, Json } from './columns';

export interface LabOrdersTable {
  id: string;
  patient_id: string;
  clinic_id: string;
  ordering_practitioner_id: string;
  tests: string[];
  priority: Priority;
  status: LabOrderStatus;
  workflow_id: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  clinical_note: string | null;
  created_by: string | null;
  deadline_at: Timestamp | null;
  overdue: Generated<boolean>;
  barcode: string | null;
  collected_by: string | null;
  collected_at: Timestamp | null;
  received_at: Timestamp | null;
  resulted_at: Timestamp | null;
  final_at: Timestamp | null;
  acknowledged_at: Timestamp | null;
  acknowledged_by: string | null;
  ack_seconds: number | null;
  cancelled_at: Timestamp | null;
  cancel_reason: string | null;
  rejection_count: Generated<number>;
  critical_pending: Generated<boolean>;
  round: Generated<number>;
}

export interface LabTestUnitsTable {
  loinc: string;
  unit: string;
  factor: number;
}
export interface LabPanelsTable {
  code: string;
  name: string;
}
export interface LabPanelTestsTable {
  panel_code: string;
  loinc: string;
}

export interface LabOrderEventsTable {
  id: Generated<string>;
  lab_order_id: string;
  at: CreatedAt;
  kind: string;
  actor: string;
  details: Json;
  dedupe_key: string;
}

export interface LabResultVersionsTable {
  id: Generated<string>;
  lab_order_id: string;
  loinc: string;
  version: number;
  value: number;
  unit: string;
  reported_value: number;
  reported_unit: string;
  interpretation: 'N' | 'L' | 'H' | 'LL' | 'HH';
  ref_low: number | null;
  ref_high: number | null;
  status: 'preliminary' | 'final' | 'amended' | 'corrected';
  source: string;
  posted_by: string;
  resulted_at: CreatedAt;
}

export interface LabCriticalNotificationsTable {
  id: Generated<string>;
  lab_order_id: string;
  round: number;
  step: 'ordering' | 'covering' | 'head';
  recipient_practitioner_id: string | null;
  notified_at: CreatedAt;
}

export interface LabAcknowledgementsTable {
  id: Generated<string>;
  lab_order_id: string;
  round: number;
  practitioner_id: string;
  read_back: Json;
  critical: boolean;
  seconds_from_final: number;
  acknowledged_at: CreatedAt;
}

export interface LabSpecimenRejectionsTable {
  id: Generated<string>;
  lab_order_id: string;
  attempt: number;
  reason: 'haemolysed' | 'clotted' | 'wrong-tube' | 'unlabelled';
  barcode: string | null;
  rejected_by: string;
  rejected_at: CreatedAt;
}

export interface LabCdsCardsTable {
  lab_order_id: string;
  round: number;
  assessment_id: string | null;
  cards: Json;
  created_at: CreatedAt;
}

export interface LabNotificationsTable {
  id: Generated<string>;
  lab_order_id: string;
  practitioner_id: string | null;
  kind: string;
  dedupe_key: string;
  created_at: CreatedAt;
  sent_at: Timestamp | null;
  /** When the delivery relay started this row's delivery process. */
  dispatched_at: Timestamp | null;
}

export interface LabEscalationContactsTable {
  clinic_id: string;
  covering_practitioner_id: string | null;
  head_practitioner_id: string | null;
}

export interface LabOrderPoliciesTable {
  clinic_id: string;
  policy: Json;
}

export interface PatientVitalsTable {
  id: Generated<string>;
  patient_id: string;
  loinc: string;
  value: number;
  unit: string;
  effective_at: Timestamp;
  recorded_by: string;
  dedupe_key: string;
  created_at: CreatedAt;
}

export interface SpecimensTable {
  id: Generated<string>;
  lab_order_id: string;
  specimen_type: string;
  status: 'available' | 'unavailable' | 'unsatisfactory' | 'entered-in-error';
  collected_at: Timestamp;
  received_at: Timestamp | null;
}

export interface LabResultsTable {
  id: Generated<string>;
  lab_order_id: string;
  loinc: string;
  value: number;
  unit: string;
  interpretation: Interpretation | null;
  status: 'preliminary' | 'final' | 'amended' | 'corrected';
  resulted_at: Timestamp;
  acknowledged_at: Timestamp | null;
  acknowledged_by: string | null;
}
