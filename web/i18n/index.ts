/**
 * The pages' strings: one catalogue per language, Russian first. `Catalogue` is the Russian
 * catalogue's shape, so another language missing a key (or with a wrong parameter) fails tsc.
 */
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { en } from './en';
import { ru } from './ru';

import type { Catalogue } from './catalogue';

export type { Catalogue };

export const LANGUAGES = { ru: ru as Catalogue, en } as const;
export type Lang = keyof typeof LANGUAGES;
export const LANG_COOKIE = 'lang';

export function isLang(v: unknown): v is Lang {
  return typeof v === 'string' && Object.hasOwn(LANGUAGES, v);
}

/** The language the visitor chose (cookie), else Russian. */
export function langOf(c: Context): Lang {
  const chosen = getCookie(c, LANG_COOKIE);
  return isLang(chosen) ? chosen : 'ru';
}

/** The visitor-facing text of an API error code; codes without their own text read as a generic failure. */
export function errorText(t: Catalogue, code: string): string {
  return t.errors[code] ?? t.errors.internal!;
}

/** Date and time formatters per language and zone: building one costs far more than using it. */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(lang: Lang, timeZone: string, kind: 'dateTime' | 'date' | 'time'): Intl.DateTimeFormat {
  const key = `${lang}|${timeZone}|${kind}`;
  let f = formatters.get(key);
  if (!f) {
    const locale = lang === 'ru' ? 'ru-RU' : 'en-GB';
    const opts: Intl.DateTimeFormatOptions =
      kind === 'date' ? { dateStyle: 'long' } : kind === 'time' ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' };
    f = new Intl.DateTimeFormat(locale, { ...opts, timeZone });
    formatters.set(key, f);
  }
  return f;
}

/** An instant on the clinic's wall clock, in the visitor's language. */
export const formatDateTime = (lang: Lang, instant: Date | string, timeZone: string) =>
  formatter(lang, timeZone, 'dateTime').format(new Date(instant));
export const formatDate = (lang: Lang, instant: Date | string, timeZone: string) =>
  formatter(lang, timeZone, 'date').format(new Date(instant));
export const formatTime = (lang: Lang, instant: Date | string, timeZone: string) =>
  formatter(lang, timeZone, 'time').format(new Date(instant));
