/**
 * The faults a site meets, each done to a real `npm start` engine (tests/engine-process.ts) while
 * the mixed load runs: a worker or the API SIGKILLed (the supervisor restarts it), the CDS worker
 * frozen (SIGSTOP … SIGCONT), the Temporal dev server stopped and started again on the same SQLite
 * file with the same arguments, Postgres stopped (`pg_ctl stop -m fast`) and started again on the
 * same data folder. Each inject() returns once the part is back, with what the API said meanwhile.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { argvOf, type EngineProcess } from '../tests/engine-process';

export interface FaultObservations {
  /** When the part was given back (killed: at once, the supervisor's turn; stopped: resumed or started again). */
  returnedAt: number;
  /** When the engine served again after that: the part's own check and /health ok. */
  healedAt: number;
  /** /health answers while the part was away: status code and which dependencies were down. */
  health: Array<{ status: number; down: string[] }>;
  /** A write tried while the part was away (no retry): its status and error code, and how long it took. */
  probes: Array<{ status: number; code?: string; ms: number }>;
}

export interface FaultScenario {
  name: string;
  /** The fault in one line, for the README's table. */
  what: string;
  inject(engine: EngineProcess, opts: { downMs: number; log: (line: string) => void }): Promise<FaultObservations>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/**
 * Samples /health and one write (a referral the API refuses after reading Postgres: nothing is
 * created) about every second until stop(); the fault's timing never waits for a slow answer.
 */
function observe(engine: EngineProcess): { stop(): Promise<Pick<FaultObservations, 'health' | 'probes'>> } {
  const health: FaultObservations['health'] = [];
  const probes: FaultObservations['probes'] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      const [h, p] = await Promise.all([
        fetch(`${engine.apiUrl}/health`, { signal: AbortSignal.timeout(10_000) })
          .then(async (r) => {
            const b = (await r.json()) as Record<string, any>;
            return { status: r.status, down: Array.isArray(b.degraded) ? (b.degraded as string[]) : [] };
          })
          .catch(() => ({ status: 0, down: ['api'] })),
        fetch(`${engine.apiUrl}/referrals`, {
          method: 'POST',
          signal: AbortSignal.timeout(30_000),
          headers: {
            authorization: `Bearer ${engine.tokens.doctor}`,
            'content-type': 'application/json',
            'idempotency-key': `fault-probe-${started}`,
          },
          body: JSON.stringify({
            patientId: '00000000-0000-4000-8000-000000000000',
            referringPractitionerId: '00000000-0000-4000-8000-000000000000',
            specialty: 'cardiology',
            urgency: 'routine',
            reason: 'probe',
            icd10: 'I10',
          }),
        })
          .then(async (r) => ({ status: r.status, code: ((await r.json().catch(() => ({}))) as any)?.error?.code as string | undefined }))
          .catch(() => ({ status: 0, code: 'network' })),
      ]);
      health.push(h);
      probes.push({ ...p, ms: Date.now() - started });
      await sleep(Math.max(0, 1000 - (Date.now() - started)));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { health, probes };
    },
  };
}

const healthy = (engine: EngineProcess) =>
  fetch(`${engine.apiUrl}/health`, { signal: AbortSignal.timeout(10_000) }).then(
    (r) => r.ok,
    () => false,
  );

/** Takes a part away for downMs (observing the API meanwhile), gives it back, waits until the engine serves again. */
interface PortHold {
  release(): Promise<void>;
}

/**
 * Listens on the port of a part just killed (or stopped) so npm start sees it taken and waits;
 * undefined when npm start took it back first (`startedAgain`: a new process of the part runs).
 * Not "the old one is gone and the port answers": a killed Go server's leader thread is a zombie
 * while its other threads still hold the listening socket, which keeps answering for a moment.
 */
async function holdPort(port: number, startedAgain: () => boolean): Promise<PortHold | undefined> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const server = net.createServer((socket) => socket.destroy());
    const held = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (held) return { release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    if (startedAgain() && (await portAnswers(port))) return undefined;
    await sleep(10);
  }
  return undefined;
}

const portAnswers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

async function away(
  engine: EngineProcess,
  downMs: number,
  takeAway: () => Promise<void> | void,
  giveBack: () => Promise<void> | void,
): Promise<FaultObservations> {
  await takeAway();
  const observer = observe(engine);
  let returnedAt = 0;
  try {
    await sleep(downMs);
  } finally {
    await giveBack();
    returnedAt = Date.now();
  }
  await until(() => healthy(engine), 180_000, 'the engine healthy again').catch(async (err: Error) => {
    const last = await fetch(`${engine.apiUrl}/health`, { signal: AbortSignal.timeout(10_000) }).then(
      (r) => r.text(),
      (e: Error) => e.message,
    );
    throw new Error(`${err.message}; /health said: ${last}`);
  });
  const healedAt = Date.now();
  return { returnedAt, healedAt, ...(await observer.stop()) };
}

function killChild(part: 'clinical' | 'api', worker?: 'worker-clinical'): FaultScenario['inject'] {
  return async (engine, { log }) => {
    const pid = engine.pidOf(part);
    if (!pid) throw new Error(`no ${part} process`);
    const startsBefore = worker ? engine.workerStarts(worker) : 0;
    const observer = observe(engine);
    process.kill(pid, 'SIGKILL');
    const returnedAt = Date.now();
    log(`SIGKILL ${part} (pid ${pid})`);
    await until(
      () => {
        const now = engine.pidOf(part);
        return now !== undefined && now !== pid;
      },
      60_000,
      `a new ${part} process`,
    );
    if (worker) await until(() => engine.workerStarts(worker) > startsBefore, 180_000, `the restarted ${worker} polling`);
    await until(() => healthy(engine), 180_000, 'the engine healthy again');
    return { returnedAt, healedAt: Date.now(), ...(await observer.stop()) };
  };
}

const postgresIds = () => ({
  uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
  gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
});

/** Writes zeros into `file` until the disk says ENOSPC; returns the bytes written. */
function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(1 << 20);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return written;
}

/** True when `dir` is a mount point of its own (a small tmpfs the run made for the data folder). */
export function isOwnMount(dir: string): boolean {
  return execFileSync('cat', ['/proc/mounts'], { encoding: 'utf8' })
    .split('\n')
    .some((l) => l.split(' ')[1] === path.resolve(dir));
}

export const SCENARIOS: Record<string, FaultScenario> = {
  'clinical-sigkill': {
    name: 'clinical-sigkill',
    what: 'clinical worker SIGKILLed (supervisor restarts it)',
    inject: killChild('clinical', 'worker-clinical'),
  },
  'api-sigkill': {
    name: 'api-sigkill',
    what: 'API SIGKILLed mid-request (supervisor restarts it; clients retry with the same Idempotency-Key)',
    inject: killChild('api'),
  },
  'cds-stop': {
    name: 'cds-stop',
    what: 'CDS worker stopped (SIGSTOP, SIGCONT after the pause)',
    async inject(engine, { downMs, log }) {
      const pid = engine.pidOf('cds');
      if (!pid) throw new Error('no cds worker');
      return away(
        engine,
        downMs,
        () => {
          process.kill(pid, 'SIGSTOP');
          log(`SIGSTOP cds worker (pid ${pid}) for ${downMs / 1000} s`);
        },
        () => {
          process.kill(pid, 'SIGCONT');
          log('SIGCONT cds worker');
        },
      );
    },
  },
  'temporal-restart': {
    name: 'temporal-restart',
    what: 'Temporal dev server stopped; npm start starts it again on the same SQLite file once its port is free',
    async inject(engine, { downMs, log }) {
      const pid = engine.pidOf('temporal');
      if (!pid) throw new Error('no dev server');
      let hold: PortHold | undefined;
      return away(
        engine,
        downMs,
        async () => {
          process.kill(pid, 'SIGKILL');
          // npm start restarts a dev server whose port is free (local-stack/keep-up.ts): the port is held for the outage.
          hold = await holdPort(engine.ports.temporal, () => ![undefined, pid].includes(engine.pidOf('temporal')));
          log(
            `Temporal dev server killed (pid ${pid}), its port ${hold ? 'held' : 'taken back by npm start at once'} for ${downMs / 1000} s`,
          );
        },
        async () => {
          await hold?.release();
          await until(
            () => {
              const again = engine.pidOf('temporal');
              return again !== undefined && again !== pid;
            },
            120_000,
            'npm start to start the dev server again',
          );
          log(`Temporal dev server started again by npm start (pid ${engine.pidOf('temporal')})`);
        },
      );
    },
  },
  'postgres-stop': {
    name: 'postgres-stop',
    what: 'Postgres stopped (pg_ctl stop -m fast); npm start starts it again on the same data folder once its port is free',
    async inject(engine, { downMs, log }) {
      const pid = engine.pidOf('postgres');
      if (!pid) throw new Error('no postgres');
      const argv = argvOf(pid);
      const pgCtl = path.join(path.dirname(argv[0]!), 'pg_ctl');
      const dataDir = argv[argv.indexOf('-D') + 1]!;
      const ids = process.getuid?.() === 0 ? postgresIds() : undefined;
      let hold: PortHold | undefined;
      return away(
        engine,
        downMs,
        async () => {
          execFileSync(pgCtl, ['stop', '-D', dataDir, '-m', 'fast', '-w'], { stdio: 'ignore', ...ids });
          hold = await holdPort(engine.ports.pg, () => ![undefined, pid].includes(engine.pidOf('postgres')));
          log(`Postgres stopped, its port ${hold ? 'held' : 'taken back by npm start at once'} for ${downMs / 1000} s`);
        },
        async () => {
          await hold?.release();
          await until(
            () => {
              const again = engine.pidOf('postgres');
              return again !== undefined && again !== pid;
            },
            120_000,
            'npm start to start Postgres again',
          );
          log(`Postgres started again by npm start (pid ${engine.pidOf('postgres')})`);
        },
      );
    },
  },
  'disk-full': {
    name: 'disk-full',
    what: 'data folder (Postgres and Temporal SQLite, one tmpfs) filled to ENOSPC, then freed',
    async inject(engine, { downMs, log }) {
      if (!isOwnMount(engine.dataDir))
        throw new Error(`disk-full needs DATA_DIR on a mount of its own (a small tmpfs); ${engine.dataDir} is not`);
      const filler = path.join(engine.dataDir, 'filler.bin');
      return away(
        engine,
        downMs,
        () => log(`data folder full (${(fillDisk(filler) / 2 ** 20).toFixed(0)} MiB of filler) for ${downMs / 1000} s`),
        () => {
          rmSync(filler, { force: true });
          log('filler removed');
        },
      );
    },
  },
};
