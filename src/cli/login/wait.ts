import type { Context } from '../context.js';
import { CliError } from '../errors.js';

/** Waits for `arrived`, or says the login timed out; `abort` stops what is still waiting. */
export async function withinTimeout<T>(ctx: Context, arrived: Promise<T>, abort?: AbortController): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const seconds = Math.round(ctx.timeoutMs / 1000);
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      abort?.abort();
      reject(new CliError(`login timed out after ${seconds} seconds: run the command again and log in in the browser`));
    }, ctx.timeoutMs);
  });
  try {
    return await Promise.race([arrived, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
