/**
 * `npm start`'s demo: the demo city's data and a bearer token per role. Only for the embedded
 * default (no DATABASE_URL) or when asked for with `npm start -- --demo`: an external database is
 * someone's real one, where neither 200 synthetic patients nor a printed admin token belong.
 */
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { mintToken } from '../platform/tokens';
import { DEMO_CALLERS } from '../db/demo-users';

export { DEMO_CALLERS };

/** Demo data and demo tokens: with the embedded Postgres, or with an explicit --demo. */
export function wantsDemo(opts: { externalDatabase: boolean; demoFlag: boolean }): boolean {
  return opts.demoFlag || !opts.externalDatabase;
}

export const demoTokensFile = (dataDir: string) => path.join(dataDir, 'demo-tokens.json');

/** Mints one token per demo role and writes them, readable by the owner only (0600). */
export async function writeDemoTokens(dataDir: string, secret: string): Promise<Record<string, string>> {
  const tokens: Record<string, string> = {};
  for (const caller of DEMO_CALLERS) tokens[caller.role] = await mintToken(secret, caller);
  const file = demoTokensFile(dataDir);
  writeFileSync(file, JSON.stringify(tokens, null, 2), { mode: 0o600 });
  // The mode above applies only when the file is created; an older file may be wider.
  chmodSync(file, 0o600);
  return tokens;
}

/** Without the demo, a tokens file left by an earlier demo run goes: its tokens are still signed with this secret. */
export function removeDemoTokens(dataDir: string): void {
  rmSync(demoTokensFile(dataDir), { force: true });
}

/** `npm start [-- --demo]`; anything else is a usage error. */
export function parseStartArgs(argv: string[]): { demo: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: { demo: { type: 'boolean', default: false } },
    strict: true,
    allowPositionals: false,
  });
  return { demo: values.demo };
}
