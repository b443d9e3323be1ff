/**
 * Pages signed in through the city's OpenID Connect provider (openid-client): the authorization
 * code flow with PKCE, state and nonce; the session's caller comes from the access token, verified
 * exactly as the API verifies it; a due refresh renews it (a provider that refuses ends the
 * session); sign-out ends the session on the server, revokes the refresh token and sends the browser
 * to the provider's end-session endpoint (RP-initiated logout). On when OIDC_ISSUER and OIDC_CLIENT_ID are set.
 */
import type { Configuration } from 'openid-client' with { 'resolution-mode': 'import' };
import type { Hono, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { callerOfToken } from '../api/auth';
import type { ApiDeps } from '../api/router';
import { claimDueRefresh, readOidcTokens, storeRefresh, type OidcSessionTokens } from '../db/web-sessions-oidc';
import { deleteWebSession } from '../db/web-sessions';
import type { Config } from '../platform/config';
import type { WebContext, WebEnv } from './env';
import { Layout } from './layout';
import { openToken, sealToken } from './oidc-token-seal';
import { SESSION_COOKIE, signIn } from './session';

const TX_COOKIE = 'oidc_tx';
/** Refresh this long before the access token runs out. */
const REFRESH_MARGIN_SECONDS = 30;

const openid = () => import('openid-client');

export const oidcPagesOn = (config: Config) => Boolean(config.OIDC_ISSUER && config.OIDC_CLIENT_ID);

/** The client's configuration from discovery, once per installation (again after a failure). */
const clients = new WeakMap<Config, Promise<Configuration>>();
function clientFor(config: Config): Promise<Configuration> {
  let found = clients.get(config);
  if (!found) {
    found = (async () => {
      const oidc = await openid();
      // Plain http only for a local provider (config refuses an http issuer in production).
      const insecure = config.OIDC_ISSUER!.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : undefined;
      return oidc.discovery(new URL(config.OIDC_ISSUER!), config.OIDC_CLIENT_ID!, config.OIDC_CLIENT_SECRET, undefined, insecure);
    })();
    found.catch(() => clients.delete(config));
    clients.set(config, found);
  }
  return found;
}

/** Where the browser reaches the pages: WEB_PUBLIC_URL, else this request's origin. */
const publicUrl = (c: WebContext, config: Config) => (config.WEB_PUBLIC_URL ?? new URL(c.req.url).origin).replace(/\/$/, '');

/** What the session keeps from a token answer. */
function sessionTokens(config: Config, t: { refresh_token?: string; id_token?: string; expires_in?: number }): OidcSessionTokens {
  const seal = (v: string | undefined) => sealToken(config.PAYLOAD_KEY, v ?? null);
  return {
    refreshToken: seal(t.refresh_token),
    idToken: seal(t.id_token),
    refreshInSeconds: Math.max(5, (t.expires_in ?? 300) - REFRESH_MARGIN_SECONDS),
  };
}

/** The sign-in page's one button when pages sign in through the provider. */
export function OidcSignIn(props: { c: WebContext }) {
  const t = props.c.get('t');
  return (
    <Layout c={props.c} title={t.oidc.title}>
      <p>{t.oidc.intro}</p>
      <p>
        <a class="button" href="/auth/start" data-sign-in="oidc" hx-boost="false">
          {t.oidc.button}
        </a>
      </p>
    </Layout>
  );
}

export function oidcSignInPages(web: Hono<WebEnv>, deps: ApiDeps) {
  const { config, db, logger } = deps;
  if (!oidcPagesOn(config)) return;

  web.get('/auth/start', async (c) => {
    const oidc = await openid();
    const client = await clientFor(config);
    const tx = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
    // Lax: the provider's redirect back is a top-level navigation from its site.
    setCookie(c, TX_COOKIE, Buffer.from(JSON.stringify(tx)).toString('base64url'), {
      httpOnly: true,
      sameSite: 'Lax',
      path: '/auth',
      maxAge: 600,
      secure: publicUrl(c, config).startsWith('https:'),
    });
    const scope = config.OIDC_SCOPES;
    const url = oidc.buildAuthorizationUrl(client, {
      redirect_uri: `${publicUrl(c, config)}/auth/callback`,
      scope,
      state: tx.state,
      nonce: tx.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(tx.verifier),
      code_challenge_method: 'S256',
      // A refresh token (offline_access) is granted only on a consent prompt (OpenID Connect Core 11).
      ...(scope.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}),
    });
    return c.redirect(url.href, 303);
  });

  web.get('/auth/callback', async (c) => {
    const t = c.get('t');
    const raw = getCookie(c, TX_COOKIE);
    deleteCookie(c, TX_COOKIE, { path: '/auth' });
    try {
      if (!raw) throw new Error('no sign-in in progress');
      const tx = JSON.parse(Buffer.from(raw, 'base64url').toString()) as { verifier: string; state: string; nonce: string };
      const oidc = await openid();
      const here = new URL(c.req.url);
      const current = new URL(`${publicUrl(c, config)}${here.pathname}${here.search}`);
      const tokens = await oidc.authorizationCodeGrant(await clientFor(config), current, {
        pkceCodeVerifier: tx.verifier,
        expectedState: tx.state,
        expectedNonce: tx.nonce,
        idTokenExpected: true,
      });
      const caller = await callerOfToken(config, tokens.access_token);
      await signIn(c, db, caller, 'oidc', config.WEB_SESSION_HOURS, sessionTokens(config, tokens));
    } catch (err) {
      logger.warn(
        {
          requestId: c.get('requestId'),
          reason: (err as { code?: string; reason?: string }).reason ?? (err as { code?: string }).code ?? (err as Error).name,
        },
        'page sign-in through the provider failed',
      );
      return c.html(
        <Layout c={c} title={t.oidc.title} error={t.oidc.failed}>
          <p>
            <a href="/sign-in">{t.oidc.again}</a>
          </p>
        </Layout>,
        400,
      );
    }
    // A page, not a redirect: the session cookie is SameSite=Strict, and a redirect chain that began at
    // the provider's site would not send it; this page's own navigation is same-site.
    return c.html(
      <html lang={c.get('lang')}>
        <head>
          <meta charset="utf-8" />
          <meta http-equiv="refresh" content="0;url=/" />
          <title>{t.oidc.title}</title>
        </head>
        <body>
          <p>
            <a href="/">{t.oidc.continue}</a>
          </p>
        </body>
      </html>,
    );
  });
}

/**
 * Renews a page session whose access token is due (runs after pageContext). The provider's new
 * token is verified like the API's; if the provider refuses (signed out there, refresh token
 * revoked, user gone) or the token no longer names a valid caller, the session ends.
 */
export function refreshOidcSession(deps: ApiDeps): MiddlewareHandler<WebEnv> {
  const { config, db, logger } = deps;
  return async (c, next) => {
    const session = c.get('session');
    if (!session || !oidcPagesOn(config)) return next();
    const due = await claimDueRefresh(db, session.idHash);
    if (!due) return next();
    try {
      const refreshToken = openToken(config.PAYLOAD_KEY, due.refreshToken);
      if (!refreshToken) throw new Error('no refresh token');
      const oidc = await openid();
      const tokens = await oidc.refreshTokenGrant(await clientFor(config), refreshToken);
      const caller = await callerOfToken(config, tokens.access_token);
      await storeRefresh(
        db,
        session.idHash,
        caller,
        sessionTokens(config, { ...tokens, refresh_token: tokens.refresh_token ?? refreshToken }),
      );
      c.set('session', { ...session, caller });
      c.set('caller', caller);
    } catch (err) {
      logger.info(
        {
          requestId: c.get('requestId'),
          reason: (err as { reason?: string }).reason ?? (err as { code?: string }).code ?? (err as Error).name,
        },
        'page session ended: refresh refused',
      );
      await deleteWebSession(db, session.idHash);
      c.set('session', undefined);
      c.set('caller', undefined as never);
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
    }
    return next();
  };
}

/**
 * For sign-out: revokes the session's refresh token at the provider (best effort) and returns the
 * provider's end-session URL to send the browser to, or undefined for a session not signed in there.
 * The caller ends the server session itself (web/session.ts signOut).
 */
export async function providerSignOutUrl(c: WebContext, deps: ApiDeps): Promise<string | undefined> {
  const session = c.get('session');
  if (!session || !oidcPagesOn(deps.config)) return undefined;
  const tokens = await readOidcTokens(deps.db, session.idHash);
  if (!tokens) return undefined;
  try {
    const oidc = await openid();
    const client = await clientFor(deps.config);
    const refreshToken = openToken(deps.config.PAYLOAD_KEY, tokens.refreshToken);
    const idToken = openToken(deps.config.PAYLOAD_KEY, tokens.idToken);
    if (refreshToken) await oidc.tokenRevocation(client, refreshToken).catch(() => undefined);
    return oidc.buildEndSessionUrl(client, {
      post_logout_redirect_uri: `${publicUrl(c, deps.config)}/sign-in`,
      ...(idToken ? { id_token_hint: idToken } : {}),
    }).href;
  } catch {
    return undefined;
  }
}
