/** The clinical worker's CDS side effect: storing each assessment so any card can be traced back. */
import type { Db } from '../db';
import { recordAssessment, type RecordAssessmentInput, type StoredAssessment } from '../commands/cds';

export type { RecordAssessmentInput, StoredAssessment };

export function createCdsAssessmentActivities(deps: { db: Db }) {
  return {
    /** Stores one assessment (model id and version, inputs, output, time) once; returns the stored row. */
    async recordAssessment(input: RecordAssessmentInput): Promise<StoredAssessment> {
      return recordAssessment(deps.db, input);
    },
  };
}
