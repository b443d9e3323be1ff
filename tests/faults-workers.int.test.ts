/**
 * Faults, part 1 (a real `npm start` under a small mixed load): the clinical worker and then the API
 * are SIGKILLed mid-load; the supervisor restarts each, clients retry with the same Idempotency-Key,
 * and nothing is lost or created twice (bench/fault-scenarios.ts; `npm run bench:faults` runs them longer).
 */
import { startEngineProcess, type EngineProcess } from './engine-process';
import { expectNothingLostOrDoubled, faultRun } from './fault-harness';

describe('faults: a worker and the API killed mid-load', () => {
  let engine: EngineProcess | undefined;
  beforeAll(async () => {
    engine = await startEngineProcess();
  }, 300_000);
  afterAll(async () => {
    await engine?.stop();
  }, 120_000);

  test('the clinical worker SIGKILLed mid-load is restarted and every process carries on', async () => {
    const before = engine!.workerStarts('worker-clinical');
    const r = await faultRun(engine!, 'clinical-sigkill');
    expect(engine!.workerStarts('worker-clinical')).toBeGreaterThan(before);
    expect(engine!.output()).toContain('worker-clinical exited (signal SIGKILL)');
    // /health was asked throughout; it degrades only once the dead worker's health file is 15 s old (a quick
    // restart never shows), and then names that worker alone: every answer is one of these two.
    const answers = r.observations.health.map((h) => `${h.status} ${h.down.join('+')}`);
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a !== '200 ' && a !== '503 worker-clinical')).toEqual([]);
    expectNothingLostOrDoubled(r);
  }, 600_000);

  test('the API SIGKILLed during requests is restarted; clients retrying with the same keys create nothing twice', async () => {
    const r = await faultRun(engine!, 'api-sigkill');
    expect(engine!.output()).toContain('api exited (signal SIGKILL)');
    // The kill cut requests off or refused them: the clients saw it and retried.
    expect(r.record.count((o) => o.startsWith('network'))).toBeGreaterThan(0);
    expectNothingLostOrDoubled(r);
  }, 600_000);
});
