import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ApiError, fromProcessFailure, fromRefusal, processRefusal } from './errors';
import { FAILURE_HTTP } from './failures';

const refused = (type: string, message: string, details?: unknown) =>
  new WorkflowUpdateFailedError(
    'Update failed',
    ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? undefined : [details] }),
  );
const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
};

describe('one table turns every refusal into the same HTTP answer, whichever router sent it', () => {
  test('a lab result the process refuses keeps its status, code and details (a read-back mismatch)', () => {
    const err = processRefusal(refused('ReadBackMismatch', 'the value read back differs', { expected: 6.8 }));
    expect(err).toBeInstanceOf(ApiError);
    expect([err!.status, err!.code, err!.message, err!.details]).toEqual([
      422,
      'read_back_mismatch',
      'the value read back differs',
      { expected: 6.8 },
    ]);
  });

  test('input a process refuses is 422 validation_failed in the referral, onboarding and lab routers alike', () => {
    expect(FAILURE_HTTP.InvalidInput).toEqual([422, 'validation_failed']);
    expect(thrown(() => fromProcessFailure(refused('InvalidInput', 'a cancellation needs a reason')))).toMatchObject({
      status: 422,
      code: 'validation_failed',
    });
  });

  test('a validator that refused with a plain Error means the state did not allow it: 409 invalid_state', () => {
    expect(thrown(() => fromProcessFailure(refused('Error', 'cannot confirm an appointment that is cancelled')))).toMatchObject({
      status: 409,
      code: 'invalid_state',
    });
  });

  test('a process that is not there is 404 unless the router says what it means', () => {
    const gone = new WorkflowNotFoundError('gone', 'lab-order-1', undefined);
    expect(processRefusal(gone)).toMatchObject({ status: 404, code: 'not_found' });
    expect(processRefusal(gone, new ApiError(409, 'invalid_state', 'ended'))).toMatchObject({ status: 409, code: 'invalid_state' });
  });

  test('an activity the API ran itself: a taken slot is 409 slot_taken, an unknown failure goes on to onError', () => {
    expect(thrown(() => fromRefusal(ApplicationFailure.create({ type: 'SlotTaken', message: 'taken', nonRetryable: true })))).toMatchObject(
      { status: 409, code: 'slot_taken' },
    );
    const other = ApplicationFailure.create({ type: 'SomethingElse', message: 'x' });
    expect(thrown(() => fromRefusal(other))).toBe(other);
    const plain = new Error('socket hang up');
    expect(thrown(() => fromRefusal(plain))).toBe(plain);
  });
});
