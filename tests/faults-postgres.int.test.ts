/**
 * Faults, part 3 (a real `npm start` under a small mixed load): Postgres stopped for 30 s and started
 * again on the same data folder. Meanwhile the API answers 503 `unavailable` (not a hang, not a 500)
 * and /health names Postgres; activities retry, and every process completes once it is back.
 */
import { startEngineProcess, type EngineProcess } from './engine-process';
import { expectNothingLostOrDoubled, faultRun } from './fault-harness';

describe('faults: Postgres away mid-load', () => {
  let engine: EngineProcess | undefined;
  beforeAll(async () => {
    engine = await startEngineProcess();
  }, 300_000);
  afterAll(async () => {
    await engine?.stop();
  }, 120_000);

  test('Postgres stopped for 30 s: 503 unavailable meanwhile, every process completes once it returns', async () => {
    const r = await faultRun(engine!, 'postgres-stop', 30_000);
    const { health, probes } = r.observations;
    expect(health.some((h) => h.status === 503 && h.down.includes('postgres'))).toBe(true);
    // Every write tried while it was down was answered, and answered 503 unavailable.
    expect(probes.map((p) => `${p.status} ${p.code}`)).toContain('503 unavailable');
    expect(probes.filter((p) => p.status === 0 || p.status >= 500).every((p) => p.status === 503 && p.code === 'unavailable')).toBe(true);
    expect(r.record.count((o) => o.startsWith('500'))).toBe(0);
    expectNothingLostOrDoubled(r);
  }, 600_000);
});
