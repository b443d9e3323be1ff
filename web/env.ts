/** What every page handler has on its context: the API's (caller, request id) plus the session and language. */
import type { Context } from 'hono';
import type { AppEnv } from '../api/router';
import type { Caller } from '../api/auth';
import type { Catalogue, Lang } from './i18n';

export interface WebSession {
  idHash: string;
  caller: Caller;
  csrfToken: string;
}

export type WebEnv = { Variables: AppEnv['Variables'] & { session?: WebSession; lang: Lang; t: Catalogue } };
export type WebContext = Context<WebEnv>;

/** The page's context as the API's access rules and commands take it (the caller is the session's). */
export const asApi = (c: WebContext) => c as unknown as Context<AppEnv>;
