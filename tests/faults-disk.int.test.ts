/**
 * Faults, part 4 (root only: it mounts a tmpfs): `npm start` with its data folder (Postgres and the
 * Temporal SQLite file) on a small disk of its own, filled to ENOSPC for 30 s under a small mixed
 * load, then freed. Requests are answered meanwhile (no hang), and once space returns every process
 * completes: nothing lost or doubled, no invariant violated.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEngineProcess, type EngineProcess } from './engine-process';
import { expectNothingLostOrDoubled, faultRun } from './fault-harness';

function mountTmpfs(mib: number): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clinical-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0755`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

const dataDir = mountTmpfs(1024);
const maybe = dataDir ? describe : describe.skip;
// A skipped run says why in its title (tests/summary-reporter.js prints skipped suites with it).
const title = 'faults: the data disk full mid-load' + (dataDir ? '' : ' (skipped: could not mount a 1 GiB tmpfs, which needs root)');

maybe(title, () => {
  let engine: EngineProcess | undefined;
  beforeAll(async () => {
    engine = await startEngineProcess({ dataDir });
  }, 300_000);
  afterAll(async () => {
    await engine?.stop();
    for (let i = 0; i < 30; i++) {
      try {
        execFileSync('umount', [dataDir!], { stdio: 'ignore' });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    rmSync(dataDir!, { recursive: true, force: true });
  }, 120_000);

  test('with the data folder full for 30 s, requests are answered and every process completes once space returns', async () => {
    const r = await faultRun(engine!, 'disk-full', 30_000);
    const { health, probes } = r.observations;
    // /health saw the full disk and named it; it answered every time, never a 500.
    expect(health.some((h) => h.status === 503 && h.down.includes('disk'))).toBe(true);
    expect(health.filter((h) => h.status !== 200 && h.status !== 503)).toEqual([]);
    // The probe (a referral refused after reading Postgres) got its usual refusal or 503 unavailable: never a hang or a 500.
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.filter((p) => p.status === 0 || p.status >= 500).every((p) => p.status === 503 && p.code === 'unavailable')).toBe(true);
    expectNothingLostOrDoubled(r);
  }, 600_000);
});
