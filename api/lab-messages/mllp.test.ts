import { MllpFramer, mllpScope, peerAllowed } from './mllp';

const b = (s: string) => Buffer.from(s, 'latin1');
const VT = '\x0b';
const END = '\x1c\r';

describe('MLLP framing', () => {
  test('takes frames split anywhere across chunks, the end marker included, and drops bytes outside frames', () => {
    const framer = new MllpFramer(1000);
    expect(framer.push(b(`noise${VT}MSH|one`)).frames).toEqual([]);
    expect(framer.push(b('|x\x1c')).frames).toEqual([]);
    expect(framer.push(b(`\rjunk${VT}MSH|two${END}${VT}MSH|thr`)).frames.map(String)).toEqual(['MSH|one|x', 'MSH|two']);
    expect(framer.push(b(`ee${END}`)).frames.map(String)).toEqual(['MSH|three']);
  });

  test('an FS not followed by CR is content, and a frame past the cap is reported', () => {
    const framer = new MllpFramer(10);
    expect(framer.push(b(`${VT}a\x1cb${END}`)).frames.map(String)).toEqual(['a\x1cb']);
    expect(framer.push(b(`${VT}${'x'.repeat(11)}`)).overflow).toBe(true);
  });
});

describe('MLLP sender trust', () => {
  test('a peer is allowed by loopback, by address or by *', () => {
    expect(peerAllowed(['loopback'], '::ffff:127.0.0.1')).toBe(true);
    expect(peerAllowed(['loopback'], '10.0.0.5')).toBe(false);
    expect(peerAllowed(['10.0.0.5'], '::ffff:10.0.0.5')).toBe(true);
    expect(peerAllowed(['*'], '192.0.2.1')).toBe(true);
  });

  test("MSH-4's first component names the lab clinic; anything else is not trusted", () => {
    const scope = mllpScope({ CITYLAB: 'c1' });
    expect(scope({ sendingFacility: 'CITYLAB^1.2.3^ISO' })).toEqual({ clinicIds: ['c1'] });
    expect(scope({ sendingFacility: 'OTHER' })).toBeNull();
    expect(scope({ sendingFacility: 'constructor' })).toBeNull();
  });
});
