/**
 * Failure converter for workers and clients: failure messages and stack traces are encoded with
 * the payload codec, so workflow history holds no readable text. Loaded by path (the workflow
 * sandbox needs it in the bundle), hence its own module.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
