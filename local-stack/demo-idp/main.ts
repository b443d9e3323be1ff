/**
 * The demo identity provider as its own process (tests, `npm start -- --demo-idp`):
 * DEMO_IDP_ISSUER, DEMO_IDP_PORT, DEMO_IDP_AUDIENCE, DEMO_IDP_CLIENTS (JSON list of clients),
 * DEMO_IDP_KEYS_FILE (private JWKs, `{ "keys": [...] }`, created with one key when missing),
 * DEMO_IDP_ACCESS_TOKEN_SECONDS. SIGHUP reads the keys file again: the way to rotate keys.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { DEMO_CALLERS } from '../../db/demo-users';
import { newSigningKey, startDemoIdp, type DemoIdpClient } from './provider';

const need = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

async function main() {
  const keysFile = need('DEMO_IDP_KEYS_FILE');
  if (!existsSync(keysFile)) writeFileSync(keysFile, JSON.stringify({ keys: [await newSigningKey()] }), { mode: 0o600 });
  const readKeys = () => (JSON.parse(readFileSync(keysFile, 'utf8')) as { keys: object[] }).keys;
  const idp = await startDemoIdp({
    issuer: need('DEMO_IDP_ISSUER'),
    port: Number(need('DEMO_IDP_PORT')),
    audience: need('DEMO_IDP_AUDIENCE'),
    clients: JSON.parse(need('DEMO_IDP_CLIENTS')) as DemoIdpClient[],
    keys: readKeys(),
    users: DEMO_CALLERS,
    accessTokenSeconds: Number(process.env.DEMO_IDP_ACCESS_TOKEN_SECONDS ?? 600),
  });
  process.on('SIGHUP', () => {
    idp.reloadKeys(readKeys()).then(
      () => process.stdout.write('demo-idp: keys reloaded\n'),
      (err: unknown) => process.stderr.write(`demo-idp: keys not reloaded: ${String(err)}\n`),
    );
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void idp.stop().then(() => process.exit(0)));
  process.stdout.write(`demo-idp: ready at ${idp.issuer}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo-idp: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
