/** What `npm start` prints once the engine is up: the real paths, wherever DATA_DIR points. */
import path from 'node:path';

/** A path as the user would type it: relative when under the working folder, else absolute. */
export function shownPath(target: string, cwd = process.cwd()): string {
  const relative = path.relative(cwd, path.resolve(target));
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : path.resolve(target);
}

export interface BannerInfo {
  seconds: number;
  apiUrl: string;
  uiUrl?: string;
  temporalAddress: string;
  /** The embedded Postgres's URL; unset for an external DATABASE_URL. */
  embeddedPostgresUrl?: string;
  dataDir: string;
  logDir: string;
  /** Where the API's and the workers' /metrics are. */
  metrics?: string;
  /** HL7 v2 over MLLP (lab systems); unset when off. */
  mllp?: string;
  /** The demo tokens and their file; unset when the demo is off. */
  demo?: { tokens: Record<string, string>; file: string };
  cwd?: string;
}

export function bannerLines(b: BannerInfo): string[] {
  const shown = (p: string) => shownPath(p, b.cwd);
  const lines = [
    '',
    `Clinical process engine is up (${b.seconds.toFixed(1)} s).`,
    `  API           ${b.apiUrl}`,
    `  API docs      ${b.apiUrl}/docs`,
    `  Health        ${b.apiUrl}/health`,
    ...(b.metrics ? [`  Metrics       ${b.metrics}`] : []),
    ...(b.mllp ? [`  HL7 MLLP      ${b.mllp}`] : []),
    `  Temporal UI   ${b.uiUrl ?? '(external Temporal: its own UI)'}`,
    `  Temporal      ${b.temporalAddress}`,
    `  Postgres      ${b.embeddedPostgresUrl ?? '(external DATABASE_URL)'}`,
    `  Data          ${shown(b.dataDir)}${path.sep}`,
    `  Logs          ${shown(b.logDir)}${path.sep}`,
  ];
  if (b.demo) {
    lines.push(`Demo bearer tokens (also in ${shown(b.demo.file)}; \`npm run token -- <role>\` mints more):`);
    for (const [role, token] of Object.entries(b.demo.tokens)) lines.push(`  ${role.padEnd(10)} ${token}`);
  } else {
    lines.push(
      'No demo data and no demo tokens (external DATABASE_URL; `npm start -- --demo` adds them). `npm run token -- <role>` mints a token.',
    );
  }
  lines.push('Press Ctrl-C to stop.');
  return lines;
}
