/**
 * A real OpenID provider for the embedded demo and the tests: oidc-provider (the certified Node
 * implementation) with the demo users (api/demo-users.ts), authorization code + PKCE, refresh
 * tokens, RP-initiated logout, and JWT access tokens for the engine's API (the audience) that carry
 * the role, patient id, practitioner id and clinics claims. Its sign-in page lists the demo users.
 * Keys rotate without a restart: reloadKeys() swaps in a provider with the new key set (the first
 * key signs; the others are still published) over the same in-memory sessions and grants.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Caller } from '../../platform/tokens';

export interface DemoIdpClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  /**
   * false for a confidential client that cannot send PKCE: the Temporal UI's login (ui-server
   * v2.42.1 sends state and nonce only); its secret still binds the code to it. Default: required.
   */
  pkce?: boolean;
}

export interface DemoIdpOptions {
  /** The issuer URL as clients reach it (also where it listens, unless `port` says otherwise). */
  issuer: string;
  host?: string;
  port: number;
  clients: DemoIdpClient[];
  /** The API's audience: access tokens are JWTs for it. */
  audience: string;
  /** Private JWKs; the first signs. */
  keys: object[];
  users: readonly Caller[];
  accessTokenSeconds?: number;
  /** Shown beside each user on the sign-in page (e.g. the demo patient's name). */
  labels?: Record<string, string>;
}

export interface RunningDemoIdp {
  issuer: string;
  port: number;
  reloadKeys(keys: object[]): Promise<void>;
  stop(): Promise<void>;
}

/** A new private signing key (RS256) as a JWK with its key id. */
export async function newSigningKey(): Promise<object> {
  const { exportJWK, generateKeyPair } = await import('jose');
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
}

const html = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The claims the engine reads, under its default claim names (OIDC_CLAIM_*). */
export function engineClaims(user: Caller): Record<string, unknown> {
  return {
    role: user.role,
    ...(user.patientId ? { patient_id: user.patientId } : {}),
    ...(user.practitionerId ? { practitioner_id: user.practitionerId } : {}),
    ...(user.clinicIds?.length || user.clinicId ? { clinics: user.clinicIds?.length ? user.clinicIds : [user.clinicId] } : {}),
  };
}

export async function startDemoIdp(opts: DemoIdpOptions): Promise<RunningDemoIdp> {
  const { default: Provider, errors } = await import('oidc-provider');
  // One store for every provider built below, so sessions, grants and refresh tokens outlive a key reload.
  const { default: MemoryAdapter } = await import('oidc-provider/lib/adapters/memory_adapter.js');
  class SharedMemoryAdapter extends MemoryAdapter {}
  const cookieKeys = [randomBytes(32).toString('base64url')];
  const ttl = opts.accessTokenSeconds ?? 600;
  const userOf = (id: string | undefined) => opts.users.find((u) => u.id === id);

  const withoutPkce = new Set(opts.clients.filter((c) => c.pkce === false).map((c) => c.client_id));
  const clients = opts.clients.map(({ client_id, client_secret, redirect_uris, post_logout_redirect_uris }) => ({
    client_id,
    client_secret,
    redirect_uris,
    ...(post_logout_redirect_uris ? { post_logout_redirect_uris } : {}),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  }));

  const build = (keys: object[]) => {
    const provider = new Provider(opts.issuer, {
      adapter: SharedMemoryAdapter,
      clients,
      jwks: { keys },
      cookies: { keys: cookieKeys },
      pkce: { required: (_ctx: unknown, client: { clientId: string }) => !withoutPkce.has(client.clientId) },
      scopes: ['openid', 'offline_access', 'profile', 'email', 'api'],
      claims: { openid: ['sub'], profile: ['role', 'patient_id', 'practitioner_id', 'clinics'] },
      findAccount: (_ctx: unknown, id: string) => {
        const user = userOf(id);
        return user && { accountId: id, claims: () => ({ sub: id, ...engineClaims(user) }) };
      },
      extraTokenClaims: (_ctx: unknown, token: { kind: string; accountId?: string }) => {
        const user = token.kind === 'AccessToken' ? userOf(token.accountId) : undefined;
        return user ? engineClaims(user) : undefined;
      },
      features: {
        devInteractions: { enabled: false },
        revocation: { enabled: true },
        rpInitiatedLogout: { enabled: true, logoutSource },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => opts.audience,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, indicator: string) => {
            if (indicator !== opts.audience) throw new errors.InvalidTarget();
            return {
              scope: 'api',
              audience: opts.audience,
              accessTokenTTL: ttl,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'RS256' } },
            };
          },
        },
      },
      ttl: {
        AccessToken: ttl,
        AuthorizationCode: 60,
        IdToken: 3600,
        Interaction: 600,
        Session: 86_400,
        Grant: 86_400,
        RefreshToken: 86_400,
      },
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    });
    provider.proxy = true;
    return provider;
  };
  let provider = build(opts.keys);

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined) {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login' && action === 'login' && req.method === 'POST') {
      const user = userOf(new URLSearchParams(await bodyOf(req)).get('user') ?? undefined);
      if (!user) return void res.writeHead(400).end('unknown user');
      return provider.interactionFinished(req, res, { login: { accountId: user.id } }, { mergeWithLastSubmission: false });
    }
    if (details.prompt.name === 'login') {
      const buttons = opts.users
        .map(
          (u) =>
            `<li><form method="post" action="/interaction/${html(uid)}/login"><input type="hidden" name="user" value="${html(u.id)}">` +
            `<button type="submit" data-user="${html(u.id)}">${html(u.id)}${opts.labels?.[u.id] ? ` — ${html(opts.labels[u.id]!)}` : ''}</button></form></li>`,
        )
        .join('');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void res.end(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demo identity provider</title></head>` +
          `<body><main><h1>Demo identity provider: sign in as</h1><ul>${buttons}</ul></main></body></html>`,
      );
    }
    // Consent: the engine's own clients are first-party, so what they ask for is granted.
    const accountId = details.session?.accountId ?? '';
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant!.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant!.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
      grant!.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant!.save();
    return provider.interactionFinished(req, res, { consent: details.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
  }

  const server: Server = createServer((req, res) => {
    const match = /^\/interaction\/([\w-]+)(?:\/(\w+))?$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (!match) return provider.callback()(req, res);
    interaction(req, res, match[1]!, match[2]).catch(() => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('This sign-in request is no longer valid; start again from the application.');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  return {
    issuer: opts.issuer,
    port: (server.address() as AddressInfo).port,
    async reloadKeys(keys) {
      provider = build(keys);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The sign-out question, answered yes at once: the application already asked its user. */
async function logoutSource(ctx: { body: string }, form: string) {
  const yes = form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>');
  ctx.body =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signing out</title></head><body><main>${yes}` +
    '<button type="submit" form="op.logoutForm">Sign out</button></main>' +
    '<script>document.forms[0].submit()</script></body></html>';
}

function bodyOf(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 10_000) req.destroy();
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
