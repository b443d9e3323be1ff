import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from './codec';

const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');

describe('the payload codec', () => {
  const key = randomBytes(32);
  const codec = new EncryptionCodec(new Map([['k1', key]]), 'k1');
  const patient = { fullName: 'Anna Orlova', birthDate: '1961-04-02', potassium: 6.4 };

  test('hides a patient payload from anyone reading the Temporal server, and gives it back intact', async () => {
    const plain = defaultPayloadConverter.toPayload(patient);
    const [encrypted] = await codec.encode([plain]);
    expect(text(encrypted!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted!.metadata![KEY_ID_METADATA])).toBe('k1');
    expect(Buffer.from(encrypted!.data!).toString('latin1')).not.toContain('Orlova');
    const [decoded] = await codec.decode([encrypted!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(patient);
  });

  test('refuses a tampered payload instead of returning altered data', async () => {
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload(patient)]);
    const data = Buffer.from(encrypted!.data!);
    data[20] = (data[20] ?? 0) ^ 0xff;
    await expect(codec.decode([{ ...encrypted!, data }])).rejects.toThrow();
  });

  test('still reads payloads written with a retired key after rotation, and writes with the new one', async () => {
    const [old] = await codec.encode([defaultPayloadConverter.toPayload(patient)]);
    const rotated = new EncryptionCodec(
      new Map([
        ['k1', key],
        ['k2', randomBytes(32)],
      ]),
      'k2',
    );
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([old!]))[0]!)).toEqual(patient);
    const [fresh] = await rotated.encode([defaultPayloadConverter.toPayload(patient)]);
    expect(text(fresh!.metadata![KEY_ID_METADATA])).toBe('k2');
    await expect(codec.decode([fresh!])).rejects.toThrow(/unknown key id k2/);
  });

  test('passes unencrypted payloads through untouched', async () => {
    const plain = defaultPayloadConverter.toPayload('hello');
    expect(await codec.decode([plain])).toEqual([plain]);
  });
});
