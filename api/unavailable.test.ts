import { ServiceError } from '@temporalio/client';
import { unavailableDependency } from './unavailable';

const withCode = (message: string, code: unknown) => Object.assign(new Error(message), { code });

describe('unavailableDependency', () => {
  test('Postgres down: refused, shut down, starting, out of connections, a pool connect that timed out, a dropped connection', () => {
    expect(unavailableDependency(withCode('connect ECONNREFUSED 127.0.0.1:5433', 'ECONNREFUSED'))).toBe('postgres');
    expect(unavailableDependency(new AggregateError([withCode('connect ECONNREFUSED ::1:5433', 'ECONNREFUSED')], 'connect failed'))).toBe(
      'postgres',
    );
    expect(unavailableDependency(withCode('terminating connection due to administrator command', '57P01'))).toBe('postgres');
    expect(unavailableDependency(withCode('the database system is starting up', '57P03'))).toBe('postgres');
    expect(unavailableDependency(withCode('sorry, too many clients already', '53300'))).toBe('postgres');
    expect(unavailableDependency(new Error('timeout exceeded when trying to connect'))).toBe('postgres');
    expect(unavailableDependency(new Error('Connection terminated unexpectedly'))).toBe('postgres');
  });

  test('Postgres out of room: disk full, out of memory, an I/O error (a full data disk answers 503, not 500)', () => {
    expect(unavailableDependency(withCode('could not extend file "base/16384/2619": No space left on device', '53100'))).toBe('postgres');
    expect(unavailableDependency(withCode('out of memory', '53200'))).toBe('postgres');
    expect(unavailableDependency(withCode('could not write to file', '58030'))).toBe('postgres');
  });

  test('Temporal down: a ServiceError whose gRPC status is UNAVAILABLE', () => {
    const grpc = Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
      code: 14,
      details: 'No connection established',
      metadata: {},
    });
    expect(unavailableDependency(new ServiceError('Failed to start Workflow', { cause: grpc }))).toBe('temporal');
  });

  test('anything else is not a dependency being down', () => {
    expect(unavailableDependency(withCode('duplicate key value violates unique constraint', '23505'))).toBeNull();
    expect(unavailableDependency(withCode('canceling statement due to statement timeout', '57014'))).toBeNull();
    expect(unavailableDependency(new TypeError('x is undefined'))).toBeNull();
    expect(unavailableDependency('a string')).toBeNull();
    expect(unavailableDependency(null)).toBeNull();
  });
});
