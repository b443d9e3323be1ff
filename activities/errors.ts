/** Failure types that activities throw: one home in platform/failures.ts, shared with the commands. */
export * from '../platform/failures';
