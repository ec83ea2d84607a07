/**
 * The tools' snippets of the README and docs/, run by the real tools from npm: Bruno's command line
 * (`bru`) with the app-token snippet, newman with the Postman pre-request script. Each calls a local
 * API that records the Authorization header it got, which must be a Bearer token the emulator signed.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let api: Server;
let apiUrl: string;
const seen: (string | undefined)[] = [];
let dir: string;

/** Every fenced block of the README and the guides, with the file it is in. */
async function fencedBlocks(): Promise<string[]> {
  const files = ['README.md', ...(await readdir('docs').catch(() => [])).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  const blocks: string[] = [];
  for (const file of files)
    for (const match of (await readFile(file, 'utf8')).matchAll(/```[^\n]*\n([\s\S]*?)```/g)) blocks.push(match[1]!);
  return blocks;
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((done) =>
    execFile(resolve('node_modules/.bin', command), args, { cwd, timeout: 60_000 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
    ),
  );
}

const forStack = (snippet: string) => snippet.replaceAll('http://localhost:8080', stack.url);

async function expectSignedBearer(header: string | undefined) {
  expect(header).toMatch(/^Bearer ey[\w-]+\.[\w-]+\.[\w-]+$/);
  const keys = createRemoteJWKSet(new URL(`${stack.emulator!.baseUrl}/${stack.emulator!.tenantId}/discovery/v2.0/keys`));
  await jwtVerify(header!.slice('Bearer '.length), keys, { audience: stack.emulator!.clientIdFor('dev-gcp:my-team:my-app') });
}

beforeAll(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), 'tool-snippets-'));
  api = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((ready) => api.listen(0, '127.0.0.1', ready));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});

afterAll(async () => {
  api?.close();
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the tools\u2019 snippets', () => {
  it('has Bruno send a Bearer token with every OAuth 2.0 snippet, and bru run gets one with the app-token snippet', async () => {
    const snippets = (await fencedBlocks()).filter((block) => block.includes('auth:oauth2 {'));
    expect(snippets.length).toBeGreaterThanOrEqual(2);
    for (const snippet of snippets) expect(snippet).toContain('token_header_prefix: Bearer');
    const appToken = snippets.find((snippet) => snippet.includes('grant_type: client_credentials'))!;
    const collection = join(dir, 'bruno');
    await mkdir(collection, { recursive: true });
    await writeFile(join(collection, 'bruno.json'), JSON.stringify({ version: '1', name: 'snippets', type: 'collection' }));
    const request = `meta {\n  name: api\n  type: http\n  seq: 1\n}\n\nget {\n  url: ${apiUrl}/bruno\n  body: none\n  auth: oauth2\n}\n\n`;
    await writeFile(join(collection, 'api.bru'), `${request}${forStack(appToken)}`);
    seen.length = 0;
    const result = await run('bru', ['run', 'api.bru'], collection);
    expect(result.code, result.output).toBe(0);
    expect(seen).toHaveLength(1);
    await expectSignedBearer(seen[0]);
  }, 90_000);

  it('has newman put a Bearer app token in front of a request with the pre-request script', async () => {
    const script = (await fencedBlocks()).find((block) => block.includes('pm.sendRequest('))!;
    expect(script).toBeTruthy();
    const collection = {
      info: { name: 'snippets', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
      event: [{ listen: 'prerequest', script: { type: 'text/javascript', exec: forStack(script).split('\n') } }],
      item: [{ name: 'api', request: { method: 'GET', url: `${apiUrl}/newman` } }],
    };
    const file = join(dir, 'collection.json');
    await writeFile(file, JSON.stringify(collection));
    seen.length = 0;
    const result = await run('newman', ['run', file, '--bail'], dir);
    expect(result.code, result.output).toBe(0);
    expect(seen).toHaveLength(1);
    await expectSignedBearer(seen[0]);
  }, 90_000);
});
