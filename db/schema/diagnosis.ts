/** Diagnosis suggestions and the doctor's final diagnosis of a visit. */
import type { Generated } from 'kysely';
import type { CreatedAt } from './columns';

export interface DiagnosisSuggestionsTable {
  id: Generated<string>;
  request_key: string | null;
  source: 'api' | 'cds-hooks';
  requested_by: string;
  practitioner_id: string | null;
  clinic_id: string | null;
  appointment_id: string | null;
  patient_ref: string | null;
  text: string;
  model_id: string;
  model_version: string;
  codes: string[];
  probabilities: number[];
  top_probability: number;
  low_confidence: boolean;
  created_at: CreatedAt;
}

export interface VisitDiagnosesTable {
  appointment_id: string;
  patient_id: string;
  clinic_id: string;
  practitioner_id: string;
  code: string;
  title: string;
  recorded_by: string;
  suggestion_id: string | null;
  in_top1: boolean | null;
  in_top3: boolean | null;
  recorded_at: CreatedAt;
}
