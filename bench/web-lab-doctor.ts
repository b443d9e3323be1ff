/**
 * bench:web's staff pages for the lab bench and the doctor's tablet: 16 signed-in lab users of the
 * demo clinic PC-01 and 16 sessions of its demo doctor, each page with its own users.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Caller } from '../api/auth';
import type { Db } from '../db';
import { demoId } from '../db/seed';
import { createWebSession } from '../db/web-sessions';

interface BenchUser {
  cookie: string;
  patientId: string;
}

async function sessions(db: Db, caller: (i: number) => Caller, n = 16): Promise<BenchUser[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const id = randomBytes(32).toString('base64url');
      await createWebSession(db, {
        idHash: createHash('sha256').update(id).digest('hex'),
        caller: caller(i),
        csrfToken: 'x',
        signedInBy: 'bench',
        ttlSeconds: 3600,
      });
      // Demo patients attached to PC-01 (every eighth of the 60 the test stack seeds): the doctor's care relationship covers their record.
      return { cookie: `sid=${id}`, patientId: demoId(`patient:${(i % 7) * 8}`) };
    }),
  );
}

export async function labDoctorBenchPages(db: Db): Promise<[string, (u: BenchUser) => string, BenchUser[]][]> {
  const clinicId = demoId('clinic:PC-01');
  const lab = await sessions(db, (i) => ({ id: `bench-lab-${i}`, role: 'lab', clinicId, clinicIds: [clinicId] }));
  const practitionerId = demoId('practitioner:PC-01:0');
  const doctor = await sessions(db, (i) => ({ id: `bench-doctor-${i}`, role: 'doctor', practitionerId }));
  // Referrals the demo doctor wrote (the seeded city's history): each user opens one of them.
  const referrals = await db
    .selectFrom('referrals')
    .select('id')
    .where('referring_practitioner_id', '=', practitionerId)
    .orderBy('id')
    .limit(16)
    .execute();
  const referralOf = (u: BenchUser) => referrals[doctor.indexOf(u) % Math.max(1, referrals.length)]?.id ?? 'none';
  return [
    ['lab worklist', () => '/lab', lab],
    ['lab unmatched', () => '/lab/unmatched', lab],
    ['lab critical', () => '/lab/critical', lab],
    ['lab messages', () => '/lab/messages', lab],
    ['doctor today', () => '/doctor', doctor],
    ['doctor inbox', () => '/doctor/inbox', doctor],
    ['doctor record', (u) => `/doctor/patients/${u.patientId}`, doctor],
    ['doctor referral', (u) => `/doctor/referrals/${referralOf(u)}`, doctor],
  ];
}
