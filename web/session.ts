/**
 * Page sessions: a random id in an HttpOnly, SameSite=Strict cookie; Postgres keeps its SHA-256
 * with the caller it acts as (the same Caller a bearer token yields, however the session was
 * signed in: the demo page now, the city's OpenID Connect provider later) and a CSRF token that
 * every form carries. Sign-out deletes the row, so a copied cookie dies with it.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { clinicClaims, ROLES, type Caller, type Role } from '../api/auth';
import type { Db } from '../db';
import { createWebSession, deleteWebSession, purgeExpiredWebSessions, readWebSession } from '../db/web-sessions';
import type { OidcSessionTokens } from '../db/web-sessions-oidc';
import type { WebContext, WebEnv } from './env';
import { LANGUAGES, langOf } from './i18n';

export const SESSION_COOKIE = 'sid';
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The stored caller, checked field by field (the row is ours, but a caller is what access rules trust). */
function storedCaller(raw: unknown): Caller | undefined {
  const o = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown> | null;
  if (!o || typeof o.id !== 'string' || !ROLES.includes(o.role as Role)) return undefined;
  const opt = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  return Object.freeze({
    id: o.id,
    role: o.role as Role,
    patientId: opt('patientId'),
    practitionerId: opt('practitionerId'),
    clinicId: opt('clinicId'),
    // As a token's `cid` + `cids` (platform/tokens.ts): a clinic-bound caller acts for its own clinic at least.
    clinicIds: clinicClaims(o.clinicId, strings(o.clinicIds)),
  });
}

/** Starts a session for this caller and sets its cookie. */
export async function signIn(c: WebContext, db: Db, caller: Caller, how: string, hours: number, oidc?: OidcSessionTokens): Promise<void> {
  const id = randomBytes(32).toString('base64url');
  await createWebSession(db, {
    idHash: sha256(id),
    caller,
    csrfToken: randomBytes(24).toString('base64url'),
    signedInBy: how,
    ttlSeconds: Math.round(hours * 3600),
    oidc,
  });
  if (Math.random() < 0.05) await purgeExpiredWebSessions(db);
  setCookie(c, SESSION_COOKIE, id, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/',
    secure: new URL(c.req.url).protocol === 'https:',
    maxAge: Math.round(hours * 3600),
  });
}

/** Ends the session on the server and drops the cookie. */
export async function signOut(c: WebContext, db: Db): Promise<void> {
  const session = c.get('session');
  if (session) await deleteWebSession(db, session.idHash);
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
}

/** Language and session for every page; the caller, when signed in, is set as the API's handlers expect it. */
export function pageContext(db: Db): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const lang = langOf(c);
    c.set('lang', lang);
    c.set('t', LANGUAGES[lang]);
    const id = getCookie(c, SESSION_COOKIE);
    if (id && id.length <= 100) {
      const idHash = sha256(id);
      const stored = await readWebSession(db, idHash);
      const caller = stored && storedCaller(stored.caller);
      if (stored && caller) {
        c.set('session', { idHash, caller, csrfToken: stored.csrfToken });
        c.set('caller', caller);
      }
    }
    await next();
  };
}

/** hono/csrf's Origin check (a form posted from another site is refused) for every page form. */
export const sameOrigin = (): MiddlewareHandler<WebEnv> => csrf();

/** The form's (or htmx header's) CSRF token must be the session's. */
export async function csrfTokenMatches(c: WebContext): Promise<boolean> {
  const session = c.get('session');
  if (!session) return false;
  let sent = c.req.header(CSRF_HEADER);
  if (!sent) {
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    sent = typeof form[CSRF_FIELD] === 'string' ? (form[CSRF_FIELD] as string) : undefined;
  }
  if (!sent) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}
