import { clinicClaims, mintToken, requireRole } from './auth';
import { canActInClinic, clinicFilterFor } from './access';

describe('clinic claims', () => {
  test('cid and cids (array or comma-separated) give the clinics a token acts for, once each', () => {
    expect(clinicClaims('a', undefined)).toEqual(['a']);
    expect(clinicClaims('a', ['b', 'a'])).toEqual(['a', 'b']);
    expect(clinicClaims(undefined, 'b, c')).toEqual(['b', 'c']);
    expect(clinicClaims(42, [null, 'd'])).toEqual(['d']);
  });

  test('registrars and labs act only in their clinics; admin anywhere; doctors, patients and ops act for none', () => {
    expect(canActInClinic({ id: 'r', role: 'registrar', clinicIds: ['a', 'b'] }, 'b')).toBe(true);
    expect(canActInClinic({ id: 'r', role: 'registrar', clinicIds: ['a'] }, 'b')).toBe(false);
    expect(canActInClinic({ id: 'r', role: 'registrar' }, 'b')).toBe(false);
    expect(canActInClinic({ id: 'l', role: 'lab', clinicId: 'b' }, 'b')).toBe(true);
    expect(canActInClinic({ id: 'a', role: 'admin' }, 'b')).toBe(true);
    for (const role of ['doctor', 'patient', 'ops'] as const) expect(canActInClinic({ id: 'x', role, clinicId: 'b' }, 'b')).toBe(false);
    expect(clinicFilterFor({ id: 'r', role: 'registrar', clinicIds: ['a'] }, undefined)).toBe('a');
    expect(() => clinicFilterFor({ id: 'r', role: 'registrar', clinicIds: ['a'] }, 'b')).toThrow(/does not act/);
    expect(clinicFilterFor({ id: 'd', role: 'doctor' }, 'b')).toBe('b');
  });

  test('a minted token with several clinics reads back with all of them', async () => {
    const token = await mintToken('s'.repeat(32), { id: 'r', role: 'registrar', clinicId: 'a', clinicIds: ['a', 'b'] });
    let seen: unknown;
    const mw = requireRole({ AUTH_SECRET: 's'.repeat(32) }, 'registrar');
    await mw(
      {
        req: { header: () => `Bearer ${token}` },
        set: (_k: string, v: unknown) => {
          seen = v;
        },
      } as never,
      async () => {},
    );
    expect(seen).toMatchObject({ clinicId: 'a', clinicIds: ['a', 'b'] });
  });
});
