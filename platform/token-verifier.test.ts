import { claimAt, clinicList, roleOf } from './token-verifier';

describe("reading the engine's claims from a city's token", () => {
  test('a claim by its full name (URL-style names hold dots) or by a dotted path', () => {
    expect(claimAt({ 'https://city.example/role': 'doctor' }, 'https://city.example/role')).toBe('doctor');
    expect(claimAt({ realm_access: { roles: ['offline_access', 'ops'] } }, 'realm_access.roles')).toEqual(['offline_access', 'ops']);
    expect(claimAt({}, 'a.b')).toBeUndefined();
  });

  test('exactly one of our roles, from a string or a list', () => {
    expect(roleOf('doctor')).toBe('doctor');
    expect(roleOf(['uma_authorization', 'ops'])).toBe('ops');
    expect(roleOf(['doctor', 'admin'])).toBeUndefined();
    expect(roleOf('superuser')).toBeUndefined();
  });

  test('clinics from a list or a comma-separated string', () => {
    expect(clinicList(['a', ' b ', 'a'])).toEqual(['a', 'b']);
    expect(clinicList('a,b')).toEqual(['a', 'b']);
    expect(clinicList(undefined)).toEqual([]);
  });
});
