/** What the page modules share: role guards, CSRF check on posts, error pages from API error codes. */
import type { Context, MiddlewareHandler } from 'hono';
import type { Role } from '../../api/auth';
import { ApiError } from '../../api/errors';
import type { WebContext, WebEnv } from '../env';
import { errorText } from '../i18n';
import { Layout } from '../layout';
import { csrfTokenMatches } from '../session';

/** Pages for these roles only: no session → the sign-in page; another role → 403. */
export function need(...roles: Role[]): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const session = c.get('session');
    if (!session) return c.req.method === 'GET' ? c.redirect('/sign-in', 303) : errorPage(c, 401, 'unauthenticated');
    if (!roles.includes(session.caller.role)) return errorPage(c, 403, 'forbidden');
    await next();
  };
}

/** A form post must carry the session's CSRF token (the Origin check runs before, in web/index.ts). */
export const checkCsrf: MiddlewareHandler<WebEnv> = async (c, next) => {
  if (!(await csrfTokenMatches(c))) return errorPage(c, 403, 'csrf');
  await next();
};

export function errorPage(c: WebContext, status: 400 | 401 | 403 | 404 | 409 | 422 | 500 | 503, code: string) {
  const t = c.get('t');
  const title = status === 404 ? t.notFoundTitle : status === 403 || status === 401 ? t.forbiddenTitle : t.errorTitle;
  return c.html(
    <Layout c={c} title={title} error={errorText(t, code)}>
      <p>
        <a href="/">{t.back}</a>
      </p>
    </Layout>,
    status,
  );
}

/** Runs a page; an API refusal becomes the page's error in the visitor's language, with its status. */
export function page(handler: (c: WebContext) => Promise<Response>) {
  return async (c: Context<WebEnv>) => {
    try {
      return await handler(c);
    } catch (err) {
      if (err instanceof ApiError) return errorPage(c, err.status as 400, err.code);
      throw err;
    }
  };
}

/** The form's fields as strings (a file or a repeated field is not one). */
export async function formOf(c: WebContext): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  return Object.fromEntries(Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
