/**
 * Lists that are cut at a limit say so: every such list fetches limit + 1 rows and answers
 * `more` (true when rows remain) and, where the list can resume, an opaque `nextCursor`.
 */
import { z } from '@hono/zod-openapi';
import { ApiError } from './errors';

export const MoreField = z.boolean().openapi({ description: 'True when the list was cut at its limit: more rows match' });
export const NextCursorField = z
  .string()
  .nullable()
  .openapi({ description: 'Pass as `cursor` to fetch the rows after this page; null on the last page' });
export const CursorQuery = z.string().min(1).max(400).optional().openapi({ description: 'The nextCursor of the previous page' });

/** A cursor: the tag of the list it belongs to and the sort key of the last row seen. */
export function encodeCursor(tag: string, key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([tag, ...key])).toString('base64url');
}

/** The key of a cursor this API handed out for the list `tag`; anything else is a 400. */
export function decodeCursor(tag: string, raw: string, arity: number): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed[0] !== tag || parsed.length !== arity + 1 || !parsed.slice(1).every((x) => typeof x === 'string')) {
    throw new ApiError(400, 'validation_failed', 'The cursor is not one this API handed out for this list.');
  }
  return parsed.slice(1) as string[];
}

/** The first `limit` rows, and whether the limit + 1'th was there. */
export function cut<T>(rows: T[], limit: number): { page: T[]; more: boolean } {
  return { page: rows.slice(0, limit), more: rows.length > limit };
}
