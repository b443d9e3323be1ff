/**
 * The demo identity provider (local-stack/demo-idp) as its own process for the sign-in tests, and a
 * sign-in through it without a browser: the authorization code flow with PKCE driven over HTTP
 * (cookies kept by hand, the provider's own sign-in form posted), the code exchanged by openid-client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../platform/config';
import { freePort } from '../local-stack/stack';

export const API_AUDIENCE = 'urn:clinical-engine:api';

export interface IdpClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  /** false: the provider does not require PKCE of this client (the Temporal UI's login). */
  pkce?: boolean;
}

export interface IdpProcess {
  issuer: string;
  /** Writes this key set (private JWKs, the first signs) and has the provider read it. */
  rotate(keys: object[]): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

export async function newKey(): Promise<object> {
  const { exportJWK, generateKeyPair } = await import('jose');
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: `k-${Math.random().toString(36).slice(2, 10)}`, alg: 'RS256', use: 'sig' };
}

export async function startIdpProcess(opts: {
  clients: IdpClient[];
  keys: object[];
  accessTokenSeconds?: number;
  port?: number;
}): Promise<IdpProcess> {
  const port = opts.port ?? (await freePort());
  const issuer = `http://127.0.0.1:${port}`;
  const keysFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'demo-idp-')), 'keys.json');
  writeFileSync(keysFile, JSON.stringify({ keys: opts.keys }));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'local-stack/demo-idp/main.ts')], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DEMO_IDP_ISSUER: issuer,
      DEMO_IDP_PORT: String(port),
      DEMO_IDP_AUDIENCE: API_AUDIENCE,
      DEMO_IDP_KEYS_FILE: keysFile,
      DEMO_IDP_CLIENTS: JSON.stringify(opts.clients),
      DEMO_IDP_ACCESS_TOKEN_SECONDS: String(opts.accessTokenSeconds ?? 600),
    },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const seen = async (text: string, count: number) => {
    for (let i = 0; i < 600; i++) {
      if (out.split(text).length - 1 >= count) return;
      if (child.exitCode !== null) throw new Error(`demo-idp exited: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`demo-idp did not say "${text}": ${out}`);
  };
  await seen('demo-idp: ready', 1);
  let reloads = 0;
  return {
    issuer,
    async rotate(keys) {
      writeFileSync(keysFile, JSON.stringify({ keys }));
      child.kill('SIGHUP');
      await seen('keys reloaded', ++reloads);
    },
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Cookies by name, as a browser would keep them for one host (enough for the provider's own). */
class Jar {
  private cookies = new Map<string, string>();
  take(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  }
  header = () =>
    [...this.cookies]
      .filter(([, v]) => v)
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
}

export interface IdpTokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
}

/** Signs `user` in at the provider for `client` and returns its tokens (authorization code + PKCE). */
export async function tokensFor(issuer: string, client: IdpClient, user: string, scope = 'openid offline_access api'): Promise<IdpTokens> {
  const oidc = await import('openid-client');
  const config = await oidc.discovery(new URL(issuer), client.client_id, client.client_secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  let url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: client.redirect_uris[0]!,
    scope,
    state,
    prompt: 'consent',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  }).href;
  const jar = new Jar();
  let init: RequestInit = {};
  for (let hop = 0; hop < 20; hop++) {
    if (url.startsWith(client.redirect_uris[0]!)) {
      const tokens = await oidc.authorizationCodeGrant(config, new URL(url), { pkceCodeVerifier: verifier, expectedState: state });
      return tokens as unknown as IdpTokens;
    }
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: jar.header() },
    });
    jar.take(res);
    init = {};
    const location = res.headers.get('location');
    if (location) {
      url = new URL(location, url).href;
      continue;
    }
    const page = await res.text();
    const form = new RegExp(`<form method="post" action="([^"]+)"><input type="hidden" name="user" value="${user}">`).exec(page);
    if (!form) throw new Error(`no sign-in form for ${user} at ${url} (${res.status})`);
    url = new URL(form[1]!, url).href;
    init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `user=${encodeURIComponent(user)}` };
  }
  throw new Error('the sign-in did not come back to the client');
}
