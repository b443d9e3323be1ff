/**
 * A throwaway stack for benchmarks: the same process the test run uses (tests/test-stack.ts:
 * embedded Postgres + Temporal dev server in a temp folder, migrated, seeded, workflow bundle),
 * with its addresses put into this process's environment. stop() removes it all.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

export async function startBenchStack(): Promise<{ stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../tests/test-stack.ts')], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.startsWith('TEST_STACK_READY ')) resolve(l.slice('TEST_STACK_READY '.length));
    });
    child.once('exit', (code) => reject(new Error(`bench stack exited with ${code}`)));
  });
  Object.assign(process.env, JSON.parse(line), { NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** p-th percentile (0–100) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}
