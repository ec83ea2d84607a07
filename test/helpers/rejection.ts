import { expect } from 'vitest';

/** What `promise` was rejected with, checked to be a `type`: for assertions on the error's fields. */
export async function rejectionOf<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(type);
  return error as T;
}
