import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DRAIN_LIMIT_MS } from '../../src/main.js';

/** NAIS's pre-stop pause before SIGTERM. */
const PRE_STOP_SECONDS = 5;

describe('the deployment', () => {
  it('waits on SIGTERM as NAIS needs, in the image and in the manifest, within the grace period', async () => {
    const dockerfile = await readFile('Dockerfile', 'utf8');
    const image = Number(/^ENV SHUTDOWN_DELAY_SECONDS=(\d+)$/m.exec(dockerfile)?.[1]);
    const manifest = parse(await readFile('.nais/app.yaml', 'utf8')) as {
      spec: { env: { name: string; value: string }[]; terminationGracePeriodSeconds?: number };
    };
    const delay = Number(manifest.spec.env.find((e) => e.name === 'SHUTDOWN_DELAY_SECONDS')?.value);
    expect(image).toBeGreaterThanOrEqual(5);
    expect(delay).toBe(image);
    expect(PRE_STOP_SECONDS + delay + DRAIN_LIMIT_MS / 1000).toBeLessThanOrEqual(manifest.spec.terminationGracePeriodSeconds ?? 30);
  });
});
