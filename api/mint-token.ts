/**
 * `npm run token -- <role> [--patient <uuid>] [--practitioner <uuid>] [--clinic <uuid>] [--sub <id>] [--hours <n>]`
 * prints a bearer token signed with this installation's AUTH_SECRET.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../platform/config';
import { mintToken, ROLES, type Role } from './auth';

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { patient: { type: 'string' }, practitioner: { type: 'string' }, clinic: { type: 'string' }, sub: { type: 'string' }, hours: { type: 'string', default: '12' } },
  });
  const role = positionals[0] as Role;
  if (!ROLES.includes(role)) {
    console.error(`usage: npm run token -- <${ROLES.join('|')}> [--patient <uuid>] [--practitioner <uuid>] [--clinic <uuid>] [--sub <id>] [--hours <n>]`);
    process.exit(2);
  }
  const token = await mintToken(
    loadConfig().AUTH_SECRET,
    { id: values.sub ?? `${role}-cli`, role, patientId: values.patient, practitionerId: values.practitioner, clinicId: values.clinic },
    Number(values.hours) * 3600,
  );
  process.stdout.write(`${token}\n`);
}

void main();
