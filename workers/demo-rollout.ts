/**
 * The demo city's rollout program, started by the clinical worker at startup, once: a
 * deterministic program id, USE_EXISTING while it runs and REJECT_DUPLICATE once it has finished,
 * production policy. The pilots (PC-01..03) run their pilot; the rest wait for their waves.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Db } from '../db';
import { demoId } from '../db/seed';
import { DEMO_CLINIC_CODES, DEMO_PILOT_CODES } from '../db/seed-onboarding';
import { DEFAULT_ROLLOUT_POLICY } from '../domain/rollout';
import { rolloutProgramWorkflow, rolloutWorkflowId } from '../workflows/rollout';
import { processStatusKey } from '../workflows/search-attributes';

export const DEMO_PROGRAM_ID = demoId('program:demo-city');

/** Starts the demo program unless it runs or ran; returns true when it started it now. */
export async function ensureDemoRollout(client: Client, db: Db, taskQueue: string): Promise<boolean> {
  const clinics = await db
    .selectFrom('clinics')
    .select(['id', 'code'])
    .where('code', 'in', [...DEMO_CLINIC_CODES])
    .execute();
  const ids = new Map(clinics.map((c) => [c.code, c.id]));
  // Only a demo city seeded with name-based ids (db/seed.ts) gets the demo program.
  if (ids.get('PC-01') !== demoId('clinic:PC-01')) return false;
  const pilotClinicIds = DEMO_PILOT_CODES.map((code) => ids.get(code)!).filter(Boolean);
  const clinicIds = DEMO_CLINIC_CODES.filter((code) => !(DEMO_PILOT_CODES as readonly string[]).includes(code))
    .map((code) => ids.get(code)!)
    .filter(Boolean);
  const workflowId = rolloutWorkflowId(DEMO_PROGRAM_ID);
  await db
    .insertInto('rollout_programs')
    .values({
      id: DEMO_PROGRAM_ID,
      name: 'Demo City rollout',
      workflow_id: workflowId,
      pilot_clinic_ids: pilotClinicIds,
      clinic_ids: clinicIds,
      policy: JSON.stringify(DEFAULT_ROLLOUT_POLICY),
      created_by: 'demo-seed',
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  try {
    await client.workflow.start(rolloutProgramWorkflow, {
      workflowId,
      taskQueue,
      args: [{ programId: DEMO_PROGRAM_ID, pilotClinicIds, clinicIds, policy: DEFAULT_ROLLOUT_POLICY }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [{ key: processStatusKey, value: 'pilots' }],
    });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}
