/**
 * The ICD-10 codes a doctor may record as a visit's diagnosis, with their Russian titles: the
 * Ministry of Health's list vendored in models/data/icd10-ru (see its NOTICE.md), read once.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ICD10_CODE } from '../domain/cds/diagnosis';
import { PROJECT_ROOT } from '../platform/config';

export const ICD10_LIST_PATH = path.join(PROJECT_ROOT, 'models', 'data', 'icd10-ru', 'icd10-ru.csv.gz');

let titles: Map<string, string> | undefined;

function load(): Map<string, string> {
  const lines = gunzipSync(readFileSync(ICD10_LIST_PATH)).toString('utf8').split('\n').slice(1).filter(Boolean);
  return new Map(
    lines.map((line) => {
      const at = line.indexOf(';');
      return [line.slice(0, at), line.slice(at + 1)] as const;
    }),
  );
}

/** The code as written in the list (upper case, trimmed) with its Russian title, or undefined when the list has no such code. */
export function icd10Lookup(raw: string): { code: string; title: string } | undefined {
  const code = raw.trim().toUpperCase();
  if (!ICD10_CODE.test(code)) return undefined;
  titles ??= load();
  const title = titles.get(code);
  return title === undefined ? undefined : { code, title };
}
