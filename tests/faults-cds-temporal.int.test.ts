/**
 * Faults, part 2 (a real `npm start` under a small mixed load): the CDS worker frozen for 30 s (lab
 * orders wait, then finish with their cards), then the Temporal dev server stopped and started again
 * on the same SQLite file (processes resume where they were). /health names the missing part.
 */
import { startEngineProcess, type EngineProcess } from './engine-process';
import { expectNothingLostOrDoubled, faultRun } from './fault-harness';

describe('faults: the CDS worker and the Temporal server away mid-load', () => {
  let engine: EngineProcess | undefined;
  beforeAll(async () => {
    engine = await startEngineProcess();
  }, 300_000);
  afterAll(async () => {
    await engine?.stop();
  }, 120_000);

  test('with the CDS worker stopped for 30 s, lab orders wait and then finish with their cards', async () => {
    const r = await faultRun(engine!, 'cds-stop', 30_000);
    // Its poll loop stopped, so its health file went stale: /health names it.
    expect(r.observations.health.some((h) => h.status === 503 && h.down.includes('worker-cds'))).toBe(true);
    expectNothingLostOrDoubled(r);
    expect(r.record.resulted.size).toBeGreaterThan(0);
  }, 600_000);

  test('the Temporal dev server stopped and started again on the same file: /health says so, processes resume', async () => {
    const r = await faultRun(engine!, 'temporal-restart', 15_000);
    expect(r.observations.health.some((h) => h.status === 503 && h.down.includes('temporal'))).toBe(true);
    expect(r.observations.health.every((h) => !h.down.includes('postgres'))).toBe(true);
    expectNothingLostOrDoubled(r);
  }, 600_000);
});
