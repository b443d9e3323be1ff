import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decideRestart, DEFAULT_RESTART_POLICY, Supervisor, type ChildSpec, type ExitRecord, type RestartPolicy } from './supervisor';

const P = DEFAULT_RESTART_POLICY;
async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 50))) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}
/** A child that runs `script` under node. */
const node = (name: string, script: string, logFile?: string): ChildSpec => ({
  name,
  command: process.execPath,
  args: ['-e', script],
  logFile,
});
const STEADY = 'setInterval(() => {}, 1000)';
const alive = (pid: number | undefined) => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the restart policy', () => {
  test('restarts a child that keeps dying fast after 0.5, 1, 2 and 4 s, and gives up at its fifth exit within a minute', () => {
    const exits: ExitRecord[] = [];
    const decisions = [];
    for (let n = 0; n < 5; n++) {
      exits.push({ at: 1_000_000 + n * 5_000, ranMs: 3_000 });
      decisions.push(decideRestart(exits, P));
    }
    expect(decisions).toEqual([
      { action: 'restart', delayMs: 500 },
      { action: 'restart', delayMs: 1000 },
      { action: 'restart', delayMs: 2000 },
      { action: 'restart', delayMs: 4000 },
      { action: 'give-up', exitsInWindow: 5 },
    ]);
  });

  test('caps the delay at 10 s and counts only the last minute towards giving up', () => {
    // One fast exit every 20 s: never five within a minute, so it keeps restarting.
    const exits: ExitRecord[] = Array.from({ length: 8 }, (_, n) => ({ at: n * 20_000, ranMs: 19_000 }));
    expect(decideRestart(exits, P)).toEqual({ action: 'restart', delayMs: 10_000 });
  });

  test('starts again at 0.5 s for a child that had run steadily before it died', () => {
    const exits: ExitRecord[] = [
      { at: 0, ranMs: 100 },
      { at: 1_000, ranMs: 100 },
      { at: 200_000, ranMs: 190_000 },
    ];
    expect(decideRestart(exits, P)).toEqual({ action: 'restart', delayMs: 500 });
  });
});

describe('the supervisor with real children', () => {
  let supervisor: Supervisor | undefined;
  afterEach(async () => {
    await supervisor?.stop();
    supervisor = undefined;
  });

  test('restarts a SIGKILLed child after 0.5 s, says so, and leaves the other child running', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'supervisor-'));
    const marker = path.join(dir, 'killed-once');
    // Kills itself the first time only, so the restarted one stays up.
    const flaky = `const fs = require('fs'); if (!fs.existsSync(${JSON.stringify(marker)})) { fs.writeFileSync(${JSON.stringify(marker)}, ''); process.kill(process.pid, 'SIGKILL'); } ${STEADY}`;
    const said: string[] = [];
    const gaveUp: string[] = [];
    supervisor = new Supervisor([node('worker-clinical', flaky), node('api', STEADY)], {
      say: (l) => said.push(l),
      onGiveUp: (n) => gaveUp.push(n),
    });
    supervisor.start();
    const api = supervisor.pids().api;
    const first = supervisor.pids()['worker-clinical'];

    const second = await eventually(
      async () => {
        const pid = supervisor!.pids()['worker-clinical'];
        return pid !== first && alive(pid) ? pid : undefined;
      },
      30_000,
      'the restarted child',
    );
    expect(said).toEqual(['worker-clinical exited (signal SIGKILL); restarting in 0.5 s (restart 1)']);
    expect(existsSync(marker)).toBe(true);
    expect([supervisor.pids().api, alive(api)]).toEqual([api, true]);
    expect(gaveUp).toEqual([]);

    await supervisor.stop();
    expect([alive(second), alive(api)]).toEqual([false, false]);
  });

  test('gives up after five fast exits, once, and stops restarting; the caller then stops the rest', async () => {
    const fast: RestartPolicy = { ...P, initialDelayMs: 20, maxDelayMs: 100 };
    const said: string[] = [];
    let gaveUp: string[] = [];
    const spawned = new Set<number>();
    supervisor = new Supervisor([node('worker-cds', 'process.exit(3)'), node('api', STEADY)], {
      say: (l) => said.push(l),
      onGiveUp: (n) => {
        gaveUp = [...gaveUp, n];
      },
      policy: fast,
      onChange: (pids) => {
        if (pids['worker-cds']) spawned.add(pids['worker-cds']);
      },
    });
    supervisor.start();
    const api = supervisor.pids().api;
    await eventually(async () => gaveUp.length > 0, 30_000, 'giving up');
    expect(gaveUp).toEqual(['worker-cds']);
    expect(spawned.size).toBe(5);
    expect(said.slice(0, 4)).toEqual(
      [1, 2, 3, 4].map((n) =>
        expect.stringMatching(new RegExp(`^worker-cds exited \\(code 3\\); restarting in [0-9.]+ s \\(restart ${n}\\)$`)),
      ),
    );
    expect(said[4]).toBe('worker-cds exited (code 3); 5 exits within 60 s: giving up, stopping everything');
    expect(supervisor.pids()['worker-cds']).toBeUndefined();
    expect(alive(api)).toBe(true);
    await supervisor.stop();
    expect(alive(api)).toBe(false);
  });

  test("writes a child's output only to its log file: the supervisor's own lines hold no patient data", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'supervisor-'));
    const logFile = path.join(dir, 'worker-clinical.log');
    const leaky = "console.log('patient Jane Doe born 1970-01-01 glucose 7.9'); console.error('Jane Doe failed'); process.exit(1)";
    const said: string[] = [];
    supervisor = new Supervisor([node('worker-clinical', leaky, logFile)], {
      say: (l) => said.push(l),
      onGiveUp: () => undefined,
      policy: { ...P, initialDelayMs: 10_000 },
    });
    supervisor.start();
    await eventually(async () => said.length > 0, 30_000, 'the exit line');
    await supervisor.stop();
    supervisor = undefined;
    expect(said).toEqual(['worker-clinical exited (code 1); restarting in 10 s (restart 1)']);
    expect(said.join('\n')).not.toMatch(/Jane|1970|7\.9/);
    expect(readFileSync(logFile, 'utf8')).toContain('patient Jane Doe born 1970-01-01');
  });
});
