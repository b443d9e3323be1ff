/**
 * `npm start -- --demo-idp`: the demo identity provider (local-stack/demo-idp) in the start process,
 * with the demo users, and the engine configured to trust it: the API accepts its tokens and the
 * pages sign in through it (authorization code + PKCE). Its keys live in DATA_DIR/demo-idp-keys.json;
 * DEMO_IDP_PORT moves it (default 9400). Called once, before the configuration is read.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEMO_CALLERS } from '../db/demo-users';
import { parseConfig } from '../platform/config';
import { newSigningKey, startDemoIdp } from './demo-idp/provider';

export const DEMO_IDP_AUDIENCE = 'urn:clinical-engine:api';
const FLAG = '--demo-idp';

/** Takes `--demo-idp` out of argv and, when it was there, starts the provider and sets the OIDC_* environment. */
export async function demoIdpFromArgs(argv: string[], say: (line: string) => void): Promise<void> {
  const at = argv.indexOf(FLAG);
  if (at < 0) return;
  argv.splice(at, 1);
  const base = parseConfig(process.env);
  const port = Number(process.env.DEMO_IDP_PORT ?? 9400);
  const issuer = `http://127.0.0.1:${port}`;
  const web = `http://${base.API_HOST === '0.0.0.0' ? '127.0.0.1' : base.API_HOST}:${base.API_PORT}`;
  mkdirSync(base.DATA_DIR, { recursive: true });
  const keysFile = path.join(base.DATA_DIR, 'demo-idp-keys.json');
  if (!existsSync(keysFile)) writeFileSync(keysFile, JSON.stringify({ keys: [await newSigningKey()] }), { mode: 0o600 });
  const keys = (JSON.parse(readFileSync(keysFile, 'utf8')) as { keys: object[] }).keys;
  const secret = randomBytes(24).toString('base64url');
  await startDemoIdp({
    issuer,
    port,
    audience: DEMO_IDP_AUDIENCE,
    keys,
    users: DEMO_CALLERS,
    clients: [
      {
        client_id: 'clinical-engine-web',
        client_secret: secret,
        redirect_uris: [`${web}/auth/callback`],
        post_logout_redirect_uris: [`${web}/sign-in`],
      },
    ],
  });
  Object.assign(process.env, {
    OIDC_ISSUER: issuer,
    OIDC_AUDIENCE: DEMO_IDP_AUDIENCE,
    OIDC_CLIENT_ID: 'clinical-engine-web',
    OIDC_CLIENT_SECRET: secret,
    OIDC_SCOPES: 'openid offline_access api',
    WEB_PUBLIC_URL: web,
  });
  say(`Demo identity provider (oidc-provider, the demo users): ${issuer}; pages sign in through it at ${web}/sign-in.`);
}
