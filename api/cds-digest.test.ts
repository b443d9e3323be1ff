import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../platform/config';
import { cdsRequestDigest } from './cds-digest';

const request = [
  'patient-17',
  [
    ['age', 61],
    ['bmi', 31.2],
  ],
];

describe('the CDS request digest', () => {
  test('stays the same when the token secret is rotated, so assessment ids survive a rotation', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cds-digest-'));
    const before = parseConfig({ DATA_DIR: dir, AUTH_SECRET: 'a'.repeat(32) });
    const after = parseConfig({ DATA_DIR: dir, AUTH_SECRET: 'b'.repeat(32) });
    expect(cdsRequestDigest(after, request)).toBe(cdsRequestDigest(before, request));
  });

  test('differs between installations and between patients, and holds no readable input', () => {
    const one = parseConfig({ DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'cds-digest-')) });
    const two = parseConfig({ DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'cds-digest-')) });
    expect(cdsRequestDigest(one, request)).not.toBe(cdsRequestDigest(two, request));
    expect(cdsRequestDigest(one, request)).not.toBe(cdsRequestDigest(one, ['patient-18', request[1]]));
    expect(cdsRequestDigest(one, request)).toMatch(/^[0-9a-f]{16}$/);
  });
});
