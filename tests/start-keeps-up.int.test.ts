/**
 * `npm start` as a user runs it (a real child process, its own data folder and ports): the
 * Temporal dev server and the embedded Postgres it started are started again when they die, as the
 * workers are, and Ctrl-C stops every process it started within 10 s, exit code 0.
 */
import { alive, childrenOf, startEngineProcess, type EngineProcess } from './engine-process';
import { eventually } from './helpers';

type Json = Record<string, any>;

/** Every process under pid (Postgres's backends, the dev server's own children included). */
function descendants(pid: number): number[] {
  return childrenOf(pid).flatMap((c) => [c.pid, ...descendants(c.pid)]);
}

describe('npm start keeps Temporal and Postgres up and stops on Ctrl-C', () => {
  let engine: EngineProcess | undefined;
  const stillRunning = () => {
    if (!engine!.running()) throw new Error(`npm start exited:\n${engine!.output()}`);
  };
  const health = async () => (await (await fetch(`${engine!.apiUrl}/health`)).json()) as Json;

  beforeAll(async () => {
    engine = await startEngineProcess({ env: { DEMO_LAB_ORDERS: 'off' } });
  }, 300_000);
  afterAll(async () => {
    await engine?.stop();
  }, 90_000);

  test('a SIGKILLed Temporal dev server is started again on the same history, and the API sees it back', async () => {
    const before = engine!.pidOf('temporal')!;
    expect(before).toBeDefined();
    process.kill(before, 'SIGKILL');
    const after = await eventually(
      async () => {
        stillRunning();
        const pid = engine!.pidOf('temporal');
        return pid !== undefined && pid !== before ? pid : undefined;
      },
      90_000,
      'a new dev server',
    );
    expect(alive(before)).toBe(false);
    expect(engine!.output()).toMatch(/temporal stopped answering on port \d+; starting it again in 0\.5 s \(restart 1\)/);
    await eventually(
      async () => {
        stillRunning();
        return (await health()).temporal?.up === true;
      },
      90_000,
      'the API to reach Temporal again',
    );
    expect(engine!.pidOf('temporal')).toBe(after);
  }, 240_000);

  test('a SIGKILLed Postgres is started again on the same data, and the API reads from it again', async () => {
    const before = engine!.pidOf('postgres')!;
    expect(before).toBeDefined();
    process.kill(before, 'SIGKILL');
    await eventually(
      async () => {
        stillRunning();
        const pid = engine!.pidOf('postgres');
        return pid !== undefined && pid !== before;
      },
      90_000,
      'a new Postgres',
    );
    expect(engine!.output()).toMatch(/postgres stopped answering on port \d+; starting it again/);
    await eventually(
      async () => {
        stillRunning();
        return (await health()).postgres?.up === true;
      },
      90_000,
      'the API to reach Postgres again',
    );
    // The demo city is still there: the same data folder, not a new cluster.
    const from = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const to = new Date(Date.now() + 8 * 86_400_000).toISOString().slice(0, 10);
    const slots = await fetch(`${engine!.apiUrl}/slots?from=${from}&to=${to}&limit=5`, {
      headers: { authorization: `Bearer ${engine!.tokens.patient}` },
    });
    expect(slots.status).toBe(200);
    expect(((await slots.json()) as Json).slots.length).toBeGreaterThan(0);
  }, 240_000);

  test('Ctrl-C (SIGINT to npm start and everything it started, as a terminal sends it) stops every process within 10 s, exit code 0', async () => {
    const parent = engine!.child.pid!;
    const restarts = () => (engine!.output().match(/starting it again/g) ?? []).length;
    const restartsBefore = restarts();
    const started = descendants(parent);
    expect(started.length).toBeGreaterThanOrEqual(5); // two workers, the API, the dev server, Postgres (and its backends)
    const exited = new Promise<number | null | 'still running'>((resolve) => {
      engine!.child.once('exit', (code) => resolve(code));
      setTimeout(() => resolve('still running'), 10_000).unref();
    });
    for (const pid of [parent, ...started]) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        /* gone already */
      }
    }
    expect(await exited).toBe(0);
    expect(started.filter(alive)).toEqual([]);
    // Nothing was started again during the shutdown, though Temporal and Postgres got the SIGINT too.
    expect(restarts()).toBe(restartsBefore);
  }, 60_000);
});
