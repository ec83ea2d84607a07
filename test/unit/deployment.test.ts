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

  it('checks the types of what the image ships in its build, as npm run build does not', async () => {
    const dockerfile = await readFile('Dockerfile', 'utf8');
    const { scripts } = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.build).toContain('--noCheck');
    const steps = [...dockerfile.matchAll(/^RUN (.+)$/gm)].flatMap((line) => line[1]!.split('&&').map((step) => step.trim()));
    const check = steps.findIndex((step) => /^npx tsc -p tsconfig\.build\.json --noEmit$/.test(step));
    expect(check).toBeGreaterThan(steps.indexOf('npm run build'));
    expect(steps.indexOf('npm run build')).toBeGreaterThanOrEqual(0);
  });
});

/**
 * The fields of NAIS's Application resource (nais/liberator, config/crd/bases/nais.io_applications.yaml) that a manifest
 * like ours may use, as the resource has them now: `true` for a value, an object for the fields within, an array of one
 * for a list of such. `spec.redis` is gone (since April 2025); the schema refuses unknown fields.
 */
const FIELDS = {
  apiVersion: true,
  kind: true,
  metadata: { name: true, namespace: true, labels: { team: true }, annotations: true },
  spec: {
    image: true,
    port: true,
    ingresses: [true],
    replicas: { min: true, max: true, disableAutoScaling: true, scalingStrategy: { cpu: { thresholdPercentage: true } } },
    resources: { requests: { cpu: true, memory: true }, limits: { cpu: true, memory: true } },
    terminationGracePeriodSeconds: true,
    liveness: { path: true, port: true, initialDelay: true, periodSeconds: true, failureThreshold: true, timeout: true },
    readiness: { path: true, port: true, initialDelay: true, periodSeconds: true, failureThreshold: true, timeout: true },
    prometheus: { enabled: true, path: true, port: true },
    azure: {
      application: {
        enabled: true,
        tenant: true,
        allowAllUsers: true,
        replyURLs: [true],
        claims: { extra: [true], groups: [{ id: true }] },
      },
      sidecar: true,
    },
    valkey: [{ instance: true, access: true }],
    env: [{ name: true, value: true }],
    envFrom: [{ secret: true, configmap: true }],
    accessPolicy: {
      inbound: { rules: [{ application: true, namespace: true, cluster: true }] },
      outbound: { external: [{ host: true, ports: [{ port: true }] }], rules: [{ application: true, namespace: true, cluster: true }] },
    },
    observability: true,
  },
} as const;

/** Fields deprecated in the resource, each with what replaces it. */
const DEPRECATED: Record<string, string> = {
  'spec.replicas.cpuThresholdPercentage': 'spec.replicas.scalingStrategy.cpu.thresholdPercentage',
  'spec.azure.application.singlePageApplication': '(none: the generator is not a single-page application)',
  'spec.redis': 'spec.valkey',
};

type Schema = true | { readonly [field: string]: Schema } | readonly [Schema];

/** The paths of `value` that `schema` does not have. */
function unknownFields(value: unknown, schema: Schema, path: string): string[] {
  if (schema === true) return [];
  if (Array.isArray(schema)) {
    if (!Array.isArray(value)) return [`${path} (not a list)`];
    return value.flatMap((item: unknown, i) => unknownFields(item, (schema as readonly [Schema])[0], `${path}[${i}]`));
  }
  if (typeof value !== 'object' || value === null) return [`${path} (not an object)`];
  const fields = schema as { readonly [field: string]: Schema };
  return Object.entries(value).flatMap(([key, inner]) => {
    const at = path ? `${path}.${key}` : key;
    return key in fields ? unknownFields(inner, fields[key]!, at) : [at];
  });
}

describe('the NAIS manifest', () => {
  it('uses only fields NAIS accepts: valkey, not redis, and no deprecated field', async () => {
    const manifest = parse(await readFile('.nais/app.yaml', 'utf8')) as { spec: Record<string, unknown> };
    const unknown = unknownFields(manifest, FIELDS, '');
    expect(
      unknown.map((path) =>
        path.replace(/\[\d+\]/g, '') in DEPRECATED ? `${path} (use ${DEPRECATED[path.replace(/\[\d+\]/g, '')]})` : path,
      ),
    ).toEqual([]);
    expect(manifest.spec.valkey).toEqual([{ instance: 'sessions', access: 'readwrite' }]);
  });

  it('asks for the memory BENCHMARKS.md gives it from the production build, and names the secret docs/nais.md says to create', async () => {
    const manifest = parse(await readFile('.nais/app.yaml', 'utf8')) as {
      spec: { resources: { requests: { memory: string }; limits: { memory: string } }; envFrom: { secret: string }[] };
    };
    const benchmarks = await readFile('BENCHMARKS.md', 'utf8');
    const { requests, limits } = manifest.spec.resources;
    expect(benchmarks).toContain(`memory request ${requests.memory}`);
    expect(benchmarks).toContain(`memory limit ${limits.memory}`);
    const guide = await readFile('docs/nais.md', 'utf8');
    for (const { secret } of manifest.spec.envFrom) expect(guide).toContain(`kubectl create secret generic ${secret}`);
  });
});
