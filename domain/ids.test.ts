import { validate, version } from 'uuid';
import { nameUuid } from './ids';

describe('name-based ids', () => {
  test('the same name of the same kind always gives the same version-5 uuid', () => {
    const id = nameUuid('booking', 'caller-1:key-0001');
    expect(id).toBe(nameUuid('booking', 'caller-1:key-0001'));
    expect(validate(id)).toBe(true);
    expect(version(id)).toBe(5);
  });

  test('kinds keep their ids apart', () => {
    expect(nameUuid('booking', 'x')).not.toBe(nameUuid('offer', 'x'));
    expect(nameUuid('booking', 'x')).not.toBe(nameUuid('booking', 'y'));
  });
});
