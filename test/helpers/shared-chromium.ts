/**
 * One Chromium for a run's browser tests, started by the first file that asks for one (vitest's global setup for the
 * files with a stack; see `vitest.config.ts`). Each file used to start its own: on two cores a start took a second
 * or more of the file's time, and a connection to a running one takes a tenth of that. Each file still gets a
 * browser of its own to close, whose contexts are apart from every other file's.
 *
 * The setup serves, on a loopback port, the address of the Chromium it starts on the first request: a run of files
 * that never ask starts none.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserServer } from 'playwright-core';
import type { TestProject } from 'vitest/node';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './browser.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where a test file asks for the shared Chromium's address (undefined where there is none: the fast tier). */
    sharedChromium?: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let launched: Promise<BrowserServer> | undefined;
  const server = createServer((_request, response) => {
    launched ??= chromium.launchServer({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    launched.then(
      (browser) => response.end(browser.wsEndpoint()),
      (error: unknown) => {
        response.statusCode = 500;
        response.end(`Chromium did not start: ${String(error)}`);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  project.provide('sharedChromium', `http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  return async () => {
    server.close();
    const browser = await launched?.catch(() => undefined);
    await browser?.close();
  };
}
