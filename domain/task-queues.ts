/** Task queue names, shared by workflows (for cross-queue activities), workers and the API. */
export const CLINICAL_TASK_QUEUE = 'clinical';
export const CDS_TASK_QUEUE = 'cds';
