import { demoId } from '../db/seed';
import { labOrderStatusQuery } from '../workflows/lab-order';
import { DEMO_LAB_ORDERS, startDemoLabOrders } from '../workers/lab-order-demo';
import { jsonRequest, startTestEngine, type TestEngine } from './helpers';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  // The demo processes belong to this engine's task queue: end them with it.
  for (const spec of DEMO_LAB_ORDERS)
    await engine.client.workflow
      .getHandle(`lab-order-${demoId(spec.key)}`)
      .terminate('test over')
      .catch(() => undefined);
  await engine.stop();
});

test("the demo city's lab orders start once in several states, one critical result awaiting acknowledgement, however often the worker starts", async () => {
  const opts = { client: engine.client, db: engine.db, taskQueue: engine.config.CLINICAL_TASK_QUEUE };
  expect(await startDemoLabOrders(opts)).toBe(4);
  expect(await startDemoLabOrders(opts)).toBe(4);
  const ids = DEMO_LAB_ORDERS.map((s) => demoId(s.key));
  const rows = await engine.db.selectFrom('lab_orders').select(['id', 'status', 'critical_pending']).where('id', 'in', ids).execute();
  const byKey = Object.fromEntries(DEMO_LAB_ORDERS.map((s) => [s.key, rows.find((r) => r.id === demoId(s.key))]));
  expect(byKey['lab-order:ordered']).toMatchObject({ status: 'ordered' });
  expect(byKey['lab-order:collected']).toMatchObject({ status: 'collected' });
  expect(byKey['lab-order:final']).toMatchObject({ status: 'final', critical_pending: false });
  expect(byKey['lab-order:critical']).toMatchObject({ status: 'final', critical_pending: true });
  expect(await engine.db.selectFrom('lab_result_versions').select('id').where('lab_order_id', 'in', ids).execute()).toHaveLength(7);
  expect(
    (await engine.client.workflow.getHandle(`lab-order-${demoId('lab-order:critical')}`).query(labOrderStatusQuery)).criticalPending,
  ).toBe(true);
  const events = await engine.app.request(`/lab-orders/${demoId('lab-order:final')}/events`, jsonRequest('GET', await engine.token('ops')));
  expect(((await events.json()) as { events: Array<{ kind: string }> }).events.map((e) => e.kind).slice(0, 5)).toEqual([
    'ordered',
    'collected',
    'received',
    'results-posted',
    'final',
  ]);
});
