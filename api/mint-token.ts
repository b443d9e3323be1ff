/**
 * `npm run token -- <role> [--patient <uuid>] [--practitioner <uuid>] [--clinic <uuid>[,<uuid>…]] [--sub <id>] [--hours <n>]`
 * prints a bearer token signed with this installation's AUTH_SECRET. Bad arguments print the
 * usage and exit with code 2, never a token.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../platform/config';
import { clinicClaims, MAX_TOKEN_HOURS, mintToken, ROLES, type Role } from './auth';

const USAGE = `usage: npm run token -- <${ROLES.join('|')}> [--patient <uuid>] [--practitioner <uuid>] [--clinic <uuid>[,<uuid>…]] [--sub <id>] [--hours <n>, at most ${MAX_TOKEN_HOURS}]`;

class UsageError extends Error {}

/** Hours as a positive number up to MAX_TOKEN_HOURS ("1.5" is fine; "x", "-1", "0" are not). */
export function parseHours(text: string): number {
  const hours = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
  if (!(hours > 0 && hours <= MAX_TOKEN_HOURS))
    throw new UsageError(`--hours must be a number of hours above 0 and at most ${MAX_TOKEN_HOURS}; got "${text}".`);
  return hours;
}

function parse(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        patient: { type: 'string' },
        practitioner: { type: 'string' },
        clinic: { type: 'string' },
        sub: { type: 'string' },
        hours: { type: 'string', default: '12' },
      },
    });
  } catch (err) {
    // e.g. `--hours -1`: parseArgs reads -1 as an option; `--hours=-1` reaches parseHours.
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { positionals, values } = parsed;
  const role = positionals[0] as Role;
  if (positionals.length === 1 && !ROLES.includes(role))
    throw new UsageError(`unknown role "${positionals[0]}": the role is one of ${ROLES.join(', ')}.`);
  if (positionals.length !== 1) throw new UsageError(`a role is required: one of ${ROLES.join(', ')}.`);
  requireScope(role, values);
  return {
    role,
    hours: parseHours(values.hours),
    sub: values.sub,
    patient: values.patient,
    practitioner: values.practitioner,
    clinic: values.clinic,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A token the API could only ever refuse is not minted: a patient token names its patient, a
 * registrar or lab token its clinic(s), each as a uuid.
 */
export function requireScope(role: Role, values: { patient?: string; practitioner?: string; clinic?: string }): void {
  if (role === 'patient' && !values.patient) throw new UsageError('a patient token needs --patient <uuid>: the patient it acts for.');
  if ((role === 'registrar' || role === 'lab') && !clinicClaims(undefined, values.clinic).length) {
    throw new UsageError(`a ${role} token needs --clinic <uuid>[,<uuid>…]: the clinic(s) it acts for.`);
  }
  for (const [flag, value] of [
    ['--patient', values.patient],
    ['--practitioner', values.practitioner],
  ] as const) {
    if (value !== undefined && !UUID.test(value)) throw new UsageError(`${flag} must be a uuid; got "${value}".`);
  }
  const bad = clinicClaims(undefined, values.clinic).find((id) => !UUID.test(id));
  if (bad !== undefined) throw new UsageError(`--clinic must be uuids separated by commas; got "${bad}".`);
}

async function main() {
  let args;
  try {
    args = parse(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  // `--clinic a,b`: a registrar or lab working for several clinics (cid = the first, cids = all).
  const clinics = clinicClaims(undefined, args.clinic);
  const token = await mintToken(
    loadConfig().AUTH_SECRET,
    {
      id: args.sub ?? `${args.role}-cli`,
      role: args.role,
      patientId: args.patient,
      practitionerId: args.practitioner,
      clinicId: clinics[0],
      ...(clinics.length > 1 ? { clinicIds: clinics } : {}),
    },
    Math.round(args.hours * 3600),
  );
  process.stdout.write(`${token}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
