/**
 * The emulator's directory from NAIS application manifests, plus a small file of its own for what
 * manifests do not say: which cluster each manifest is deployed to, and the test employees.
 *
 *   # emulator.yaml
 *   manifests:
 *     - path: manifests/dev-gcp        # a file or a folder of .yaml/.yml files, relative to this file
 *       cluster: dev-gcp
 *   employees:
 *     - { navIdent: Z990001, name: Kari Nordmann, email: kari.nordmann@trygdeetaten.no, groups: [group-a] }
 *   clients:                           # credentials for apps that call the emulator themselves
 *     - { target: dev-gcp:team-a:app-a, secrets: [a-secret] }
 *     - { target: dev-gcp:team-a:frontend, spaRedirectUris: [http://localhost:5173/] }   # a single-page app: public, CORS
 *
 * A manifest that cannot be read stops the emulator with the file and the field; there is never
 * half a directory.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { InboundRule, LoadedDirectory, ManifestApp } from './model.js';
import { NAME_PATTERN, TARGET_PATTERN } from './names.js';

const name = z.string().regex(NAME_PATTERN, 'must be a lower-case Kubernetes-style name');

export class DirectoryError extends Error {
  constructor(file: string, field: string, message: string) {
    super(`${file}: ${field}: ${message}`);
    this.name = 'DirectoryError';
  }
}

const replyUrl = z.string().refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'must be an http(s) URL');

const Rule = z
  .object({
    application: z.union([name, z.literal('*')]),
    namespace: z.union([name, z.literal('*')]).optional(),
    cluster: name.optional(),
    permissions: z.object({ scopes: z.array(z.string().min(1)).optional(), roles: z.array(z.string().min(1)).optional() }).optional(),
  })
  .loose();

const Application = z
  .object({
    kind: z.literal('Application'),
    metadata: z.object({ name, namespace: name }).loose(),
    spec: z
      .object({
        azure: z
          .object({
            application: z
              .object({
                enabled: z.boolean().optional(),
                allowAllUsers: z.boolean().optional(),
                claims: z
                  .object({ groups: z.array(z.object({ id: z.string().min(1) }).loose()).optional() })
                  .loose()
                  .optional(),
                // NAIS takes plain URLs and, in newer manifests, objects with a url.
                replyURLs: z.array(z.union([replyUrl, z.object({ url: replyUrl }).loose()])).optional(),
              })
              .loose()
              .optional(),
          })
          .loose()
          .optional(),
        accessPolicy: z
          .object({
            inbound: z
              .object({ rules: z.array(Rule).optional() })
              .loose()
              .optional(),
          })
          .loose()
          .optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

const DirectoryFile = z.object({
  manifests: z.array(z.object({ path: z.string().min(1), cluster: name })).default([]),
  employees: z
    .array(
      z.object({
        navIdent: z.string().regex(/^[A-Za-z0-9]{1,20}$/, 'must be letters and digits'),
        name: z.string().min(1),
        email: z.string().min(3),
        groups: z.array(z.string().min(1)).default([]),
      }),
    )
    .default([]),
  clients: z
    .array(
      z.object({
        target: z.string().regex(TARGET_PATTERN, 'must be cluster:namespace:app'),
        secrets: z.array(z.string().min(8)).default([]),
        // A PEM certificate, or the path of a file holding one (relative to the directory file).
        certificates: z.array(z.string().min(1)).default([]),
        replyUrls: z.array(replyUrl).default([]),
        spaRedirectUris: z.array(replyUrl).default([]),
        // A desktop or mobile app's redirect may have a scheme of its own (msal<client id>://auth).
        nativeRedirectUris: z.array(z.string().refine((value) => URL.canParse(value), 'must be a URL')).default([]),
      }),
    )
    .default([]),
});

export type DirectoryInput = z.input<typeof DirectoryFile>;

function fieldOf(path: PropertyKey[]): string {
  return (
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '') || '(document)'
  );
}

async function yamlFiles(path: string, source: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new DirectoryError(source, 'manifests.path', `${path} does not exist`);
  }
  if (info.isFile()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((entry) => {
        const full = join(path, entry.name);
        if (entry.isDirectory()) return yamlFiles(full, source);
        return Promise.resolve(/\.ya?ml$/.test(entry.name) ? [full] : []);
      }),
  );
  return nested.flat();
}

/** The YAML parser, loaded when a file is first read: the open directory, the default, needs none. */
const parseAllDocuments = async (text: string) => (await import('yaml')).parseAllDocuments(text);

export async function parseManifestFile(file: string, cluster: string): Promise<ManifestApp[]> {
  const text = await readFile(file, 'utf8');
  const documents = await parseAllDocuments(text);
  const apps: ManifestApp[] = [];
  for (const [index, document] of (Array.isArray(documents) ? documents : [documents]).entries()) {
    const where = documents.length > 1 ? `${file} (document ${index + 1})` : file;
    if (document.errors.length > 0) throw new DirectoryError(where, 'yaml', document.errors[0]!.message.split('\n')[0]!);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || (value as { kind?: unknown }).kind !== 'Application') continue;
    const parsed = Application.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new DirectoryError(where, fieldOf(issue.path), issue.message);
    }
    const manifest = parsed.data;
    const { name: app, namespace } = manifest.metadata;
    const azure = manifest.spec?.azure?.application;
    apps.push({
      target: `${cluster}:${namespace}:${app}`,
      cluster,
      namespace,
      app,
      enabled: azure?.enabled ?? false,
      allowAllUsers: azure?.allowAllUsers ?? false,
      groups: (azure?.claims?.groups ?? []).map((group) => group.id),
      rules: (manifest.spec?.accessPolicy?.inbound?.rules ?? []).map((rule) => ({
        application: rule.application,
        namespace: rule.namespace ?? namespace,
        cluster: rule.cluster ?? cluster,
        scopes: rule.permissions?.scopes ?? [],
        roles: rule.permissions?.roles ?? [],
      })),
      replyUrls: (azure?.replyURLs ?? []).map((entry) => (typeof entry === 'string' ? entry : entry.url)),
      source: where,
    });
  }
  return apps;
}

export async function loadDirectoryFile(path: string): Promise<LoadedDirectory> {
  const file = resolve(path);
  let raw: unknown;
  try {
    raw = (await parseAllDocuments(await readFile(file, 'utf8')))[0]?.toJS() ?? {};
  } catch (err) {
    throw new DirectoryError(file, 'yaml', err instanceof Error ? err.message.split('\n')[0]! : 'cannot be read');
  }
  return loadDirectory(raw ?? {}, { source: file, baseDir: dirname(file) });
}

/** A directory given as an object (the directory file's shape), with paths relative to `baseDir`. */
export async function loadDirectory(raw: unknown, where: { source: string; baseDir: string }): Promise<LoadedDirectory> {
  const { source: file, baseDir } = where;
  const parsed = DirectoryFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DirectoryError(file, fieldOf(issue.path), issue.message);
  }
  const apps = new Map<string, ManifestApp>();
  const files: string[] = [];
  for (const entry of parsed.data.manifests) {
    for (const manifestFile of await yamlFiles(resolve(baseDir, entry.path), file)) {
      files.push(manifestFile);
      for (const app of await parseManifestFile(manifestFile, entry.cluster)) {
        const existing = apps.get(app.target);
        if (existing) throw new DirectoryError(app.source, 'metadata.name', `${app.target} is also defined in ${existing.source}`);
        apps.set(app.target, app);
      }
    }
  }
  const clients = await Promise.all(
    parsed.data.clients.map(async (client, index) => ({
      ...client,
      certificates: await Promise.all(
        client.certificates.map((certificate) => certificateText(certificate, baseDir, `${file}: clients[${index}].certificates`)),
      ),
    })),
  );
  return { apps, employees: parsed.data.employees, clients, files };
}

async function certificateText(value: string, baseDir: string, field: string): Promise<string> {
  if (value.includes('-----BEGIN')) return value;
  try {
    return await readFile(resolve(baseDir, value), 'utf8');
  } catch {
    throw new Error(`${field}: ${value} is neither a PEM certificate nor a file that can be read`);
  }
}

/** What an inbound rule of `app` grants `caller`, or undefined when no rule lets it in. */
export function ruleFor(app: ManifestApp, caller: string): InboundRule | undefined {
  const [cluster, namespace, name] = caller.split(':');
  return app.rules.find(
    (rule) =>
      (rule.application === '*' || rule.application === name) &&
      (rule.namespace === '*' || rule.namespace === namespace) &&
      rule.cluster === cluster,
  );
}

/** Several directories as one: the apps of all (each defined once), their employees and apps' credentials. */
export function mergeDirectories(parts: LoadedDirectory[]): LoadedDirectory {
  const apps = new Map<string, ManifestApp>();
  for (const part of parts) {
    for (const [target, app] of part.apps) {
      const existing = apps.get(target);
      if (existing) throw new DirectoryError(app.source, 'metadata.name', `${target} is also defined in ${existing.source}`);
      apps.set(target, app);
    }
  }
  return {
    apps,
    employees: parts.flatMap((part) => part.employees),
    clients: parts.flatMap((part) => part.clients),
    files: parts.flatMap((part) => part.files),
  };
}
