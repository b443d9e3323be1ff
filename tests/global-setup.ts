/** Starts the test stack process and hands its addresses to every test file through the environment. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

const READY_MARKER = 'TEST_STACK_READY ';

export default async function globalSetup(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'tests/test-stack.ts')], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  (globalThis as { __TEST_STACK__?: typeof child }).__TEST_STACK__ = child;
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (l) => {
      if (l.startsWith(READY_MARKER)) resolve(l.slice(READY_MARKER.length));
      else process.stderr.write(`[test-stack] ${l}\n`);
    });
    child.once('exit', (code) => reject(new Error(`the test stack exited with code ${code} before it was ready`)));
  });
  const env = JSON.parse(line) as Record<string, string>;
  Object.assign(process.env, env, { NODE_ENV: 'test', LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' });
}
