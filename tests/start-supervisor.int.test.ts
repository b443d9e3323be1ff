/**
 * `npm start` as a user runs it: a real child process with its own data folder and ports. The
 * clinical worker is killed with SIGKILL; the engine restarts it, keeps the API, the CDS worker,
 * Temporal and Postgres up, and a patient then books through the HTTP API. The Temporal CLI is
 * found as npm start finds it (TEMPORAL_CLI_PATH, then PATH).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alive, childRunning, jwtPayload, startEngineProcess, type EngineProcess } from './engine-process';
import { eventually } from './helpers';

type Json = Record<string, any>;

describe('npm start supervises its workers', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'clinical-start-'));
  let started: EngineProcess | undefined;

  afterAll(async () => {
    await started?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 90_000);

  test('a SIGKILLed clinical worker is restarted, the rest stays up, and a patient can still book', async () => {
    started = await startEngineProcess({ dataDir });
    const engine = started.child;
    const output = started.output;
    const stillRunning = () => {
      if (!started!.running()) throw new Error(`npm start exited:\n${output()}`);
    };
    expect(output()).toContain(path.join(dataDir, 'logs'));

    const tokensFile = path.join(dataDir, 'demo-tokens.json');
    expect(statSync(tokensFile).mode & 0o777).toBe(0o600);
    const tokens = started.tokens;
    const clinical = childRunning(engine.pid!, 'workers/clinical.ts')!;
    const cds = childRunning(engine.pid!, 'workers/cds.ts')!;
    const api = childRunning(engine.pid!, 'api/server.ts')!;
    expect([clinical, cds, api].every(Boolean)).toBe(true);

    // The banner waits for the API only: kill the clinical worker once it has connected.
    const workerLog = path.join(dataDir, 'logs', 'worker-clinical.log');
    const startedWorkers = () => started!.workerStarts('worker-clinical');
    await eventually(
      async () => {
        stillRunning();
        return startedWorkers() >= 1;
      },
      120_000,
      'the clinical worker',
    );
    process.kill(clinical, 'SIGKILL');
    const restarted = await eventually(
      async () => {
        stillRunning();
        const pid = childRunning(engine!.pid!, 'workers/clinical.ts');
        return pid !== undefined && pid !== clinical ? pid : undefined;
      },
      30_000,
      'a new clinical worker',
    );
    expect(output()).toContain('worker-clinical exited (signal SIGKILL); restarting in 0.5 s (restart 1)');
    // The new worker has connected (its own log line), and nothing else was touched.
    await eventually(
      async () => {
        stillRunning();
        return startedWorkers() >= 2;
      },
      120_000,
      'the restarted worker',
    ).catch((err: Error) => {
      throw new Error(`${err.message}; npm start said:\n${output()}\nworker log:\n${readFileSync(workerLog, 'utf8').slice(-3000)}`);
    });
    expect(JSON.parse(readFileSync(path.join(dataDir, 'run', 'pids.json'), 'utf8'))).toMatchObject({
      children: { 'worker-clinical': restarted, 'worker-cds': cds, api },
    });
    expect([alive(cds), alive(api), childRunning(engine.pid!, 'workers/cds.ts'), childRunning(engine.pid!, 'api/server.ts')]).toEqual([
      true,
      true,
      cds,
      api,
    ]);

    const apiUrl = started.apiUrl;
    const patient = tokens.patient!;
    const patientId = jwtPayload(patient).pid as string;
    const from = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const to = new Date(Date.now() + 8 * 86_400_000).toISOString().slice(0, 10);
    const slots = (await (
      await fetch(`${apiUrl}/slots?from=${from}&to=${to}&limit=50`, { headers: { authorization: `Bearer ${patient}` } })
    ).json()) as Json;
    const slot = (slots.slots as Json[]).find((s) => Date.parse(s.startsAt) > Date.now() + 3600_000);
    expect(slot).toBeDefined();
    const booked = await fetch(`${apiUrl}/appointments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${patient}`, 'content-type': 'application/json', 'idempotency-key': 'supervisor-test-booking-1' },
      body: JSON.stringify({ slotId: slot!.id, patientId }),
    });
    const body = (await booked.json()) as Json;
    expect([booked.status, body.status, body.slotId]).toEqual([201, 'held', slot!.id]);

    // npm start gives the cds worker's scoring endpoint the same port and secret in both children:
    // a CDS Hooks call is scored there (no workflow) and answers a model card.
    expect(readFileSync(path.join(dataDir, 'logs', 'worker-cds.log'), 'utf8')).toContain('cds scoring endpoint listening');
    const obs = (code: string, value: number, unit: string) => ({
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code }] },
        valueQuantity: { value, unit },
        effectiveDateTime: from,
      },
    });
    const hook = await fetch(`${apiUrl}/cds-services/diabetes-progression`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.doctor!}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        hook: 'patient-view',
        hookInstance: randomUUID(),
        context: { userId: 'Practitioner/1', patientId: 'ehr-1' },
        prefetch: {
          patient: { resourceType: 'Patient', gender: 'male', birthDate: '1966-01-15' },
          labs: {
            resourceType: 'Bundle',
            entry: [
              obs('2093-3', 5.5, 'mmol/L'),
              obs('13457-7', 3.1, 'mmol/L'),
              obs('2085-9', 1.1, 'mmol/L'),
              obs('2571-8', 2.0, 'mmol/L'),
              obs('2345-7', 6.0, 'mmol/L'),
            ],
          },
          vitals: {
            resourceType: 'Bundle',
            entry: [obs('39156-5', 29, 'kg/m2'), obs('8480-6', 135, 'mm[Hg]'), obs('8462-4', 85, 'mm[Hg]')],
          },
        },
      }),
    });
    const cards = (await hook.json()) as Json;
    expect([hook.status, String(cards.cards?.[0]?.summary)]).toEqual([200, expect.stringMatching(/^Diabetes progression: /)]);
    expect(readFileSync(path.join(dataDir, 'logs', 'api.log'), 'utf8')).not.toContain('cds scoring endpoint unreachable');

    engine.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => engine!.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    expect([alive(restarted), alive(cds), alive(api)]).toEqual([false, false, false]);
    expect(output()).not.toContain('(restart 2)');
  }, 300_000);
});
