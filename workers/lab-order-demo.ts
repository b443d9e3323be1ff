/**
 * The demo city's lab orders, started (and brought to their demo step) when a clinical worker
 * starts: one ordered, one with its specimen collected, one final awaiting acknowledgement (with its
 * CDS card), one critical potassium awaiting acknowledgement. Idempotent: deterministic workflow ids
 * with USE_EXISTING, each step sent only when the process is behind it, a finished process left alone.
 * Only where the demo city is seeded (its first patient exists).
 */
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Db } from '../db';
import { buildLabOrderInput } from '../db/lab-order';
import { LIPID_PANEL } from '../db/seed-lab-order';
import { nameUuid } from '../domain/ids';
import { labOrderWorkflowId, type LabPriority, type ResultEntry } from '../domain/lab-order';
import {
  collectSpecimenUpdate,
  labOrderStatusQuery,
  labOrderWorkflow,
  postResultsUpdate,
  receiveSpecimenUpdate,
  registerLabOrderUpdate,
} from '../workflows/lab-order';
import { clinicIdKey, patientIdKey, processStatusKey } from '../workflows/search-attributes';

type Target = 'ordered' | 'collected' | 'final';
const demo = (key: string) => nameUuid('demo', key);
const LIPIDS: ResultEntry[] = [
  { loinc: '2093-3', value: 6.1, unit: 'mmol/L' },
  { loinc: '13457-7', value: 3.9, unit: 'mmol/L' },
  { loinc: '2085-9', value: 1.1, unit: 'mmol/L' },
  { loinc: '2571-8', value: 2.4, unit: 'mmol/L' },
];

export const DEMO_LAB_ORDERS: Array<{
  key: string;
  patient: number;
  tests: string[];
  priority: LabPriority;
  target: Target;
  results?: ResultEntry[];
}> = [
  { key: 'lab-order:ordered', patient: 2, tests: [LIPID_PANEL, '2345-7'], priority: 'routine', target: 'ordered' },
  { key: 'lab-order:collected', patient: 4, tests: ['2823-3', '2951-2'], priority: 'urgent', target: 'collected' },
  {
    key: 'lab-order:final',
    patient: 0,
    tests: [LIPID_PANEL, '2345-7', '2160-0'],
    priority: 'routine',
    target: 'final',
    results: [...LIPIDS, { loinc: '2345-7', value: 7.2, unit: 'mmol/L' }, { loinc: '2160-0', value: 1.3, unit: 'mg/dL' }],
  },
  {
    key: 'lab-order:critical',
    patient: 6,
    tests: ['2823-3'],
    priority: 'stat',
    target: 'final',
    results: [{ loinc: '2823-3', value: 6.9, unit: 'mmol/L' }],
  },
];

/** Starts the demo orders' processes and moves each to its demo step. Returns how many it touched. */
export async function startDemoLabOrders(opts: { client: Client; db: Db; taskQueue: string; clinicCode?: string }): Promise<number> {
  const { client, db } = opts;
  const firstPatient = await db.selectFrom('patients').select('id').where('id', '=', demo('patient:0')).executeTakeFirst();
  if (!firstPatient) return 0;
  const clinicCode = opts.clinicCode ?? 'PC-01';
  const doctorId = demo(`practitioner:${clinicCode}:0`);
  let touched = 0;
  for (const spec of DEMO_LAB_ORDERS) {
    const orderId = demo(spec.key);
    const built = await buildLabOrderInput(db, {
      orderId,
      practitionerId: doctorId,
      patientId: demo(`patient:${spec.patient}`),
      tests: spec.tests,
      priority: spec.priority,
      note: 'demo order',
      orderedAt: new Date().toISOString(),
    });
    if (!built.ok) continue;
    try {
      await client.workflow.executeUpdateWithStart(registerLabOrderUpdate, {
        args: [],
        updateId: 'register',
        startWorkflowOperation: new WithStartWorkflowOperation(labOrderWorkflow, {
          workflowId: labOrderWorkflowId(orderId),
          taskQueue: opts.taskQueue,
          args: [built.input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: clinicIdKey, value: built.input.clinicId },
            { key: patientIdKey, value: built.input.patientId },
            { key: processStatusKey, value: 'ordered' },
          ],
        }),
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) continue; // this demo order has run its course
      throw err;
    }
    const handle = client.workflow.getHandle(labOrderWorkflowId(orderId));
    const by = 'demo-lab';
    let state = await handle.query(labOrderStatusQuery);
    if (spec.target !== 'ordered' && state.status === 'ordered')
      state = await handle.executeUpdate(collectSpecimenUpdate, { args: [{ barcode: `DEMO-${orderId.slice(0, 8)}`, by }] });
    if (spec.target === 'final' && state.status === 'collected')
      state = await handle.executeUpdate(receiveSpecimenUpdate, { args: [{ by }] });
    if (spec.target === 'final' && state.status === 'received' && spec.results) {
      await handle.executeUpdate(postResultsUpdate, { args: [{ results: spec.results, by, source: 'json' }], updateId: 'demo-results' });
    }
    touched++;
  }
  return touched;
}
