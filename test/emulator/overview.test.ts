/** What the emulator says it holds: the start-up summary and the page at its root, for the example directory and the open one. */
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../packages/entra-emulator/src/index.js';

const EXAMPLE = 'examples/emulator/emulator.yaml';
const APPS = ['dev-gcp:team-a:api', 'dev-gcp:team-a:consumer', 'dev-gcp:team-a:open-api', 'dev-gcp:team-b:closed'];

describe('the overview of the example directory', () => {
  it('lists every app in the summary with its client id, callers, users, whether it has secrets and its env command', async () => {
    const emulator = await startEmulator({ directoryFile: EXAMPLE });
    try {
      const summary = emulator.summary;
      expect(summary).toContain('directory: from NAIS manifests, 4 apps');
      for (const target of APPS) {
        expect(summary).toContain(`  ${target}  client id ${emulator.clientIdFor(target)}`);
        expect(summary).toContain(`    environment: npx entra-emulator env ${target} --url ${emulator.baseUrl}`);
      }
      expect(summary).toContain(
        'callers: dev-gcp:nais:azure-token-generator, dev-gcp:team-a:consumer; users: members of ' +
          '3e3b4b1c-0000-4000-8000-00000000a001; no secret',
      );
      expect(summary).toContain('callers: dev-gcp:team-b:someone-else; users: all users; no secret');
      expect(summary).toMatch(/dev-gcp:team-a:consumer {2}client id [0-9a-f-]{36}\n {4}callers: none; users: all users; 1 secret\n/);
      expect(summary).not.toContain('consumer-secret-for-local-use');
      expect(summary).toContain('without Entra ID (not in the tenant): dev-gcp:team-b:no-entra');
      expect(summary).toContain('employees: Z990001 (Kari Nordmann; groups 3e3b4b1c-0000-4000-8000-00000000a001), Z990002 (Ola Nordmann)');

      // The examples it prints work with this directory.
      const example = /curl -s (\S+) -d identity_provider=entra_id -d target=(\S+)/.exec(summary)!;
      expect(summary).toContain(`npx entra-emulator env dev-gcp:team-a:consumer --url ${emulator.baseUrl} > .env.local`);
      const res = await fetch(example[1]!, {
        method: 'POST',
        body: new URLSearchParams({ identity_provider: 'entra_id', target: example[2]! }),
      });
      expect(res.status).toBe(200);
    } finally {
      await emulator.close();
    }
  });

  it('shows the same on the page at its root, under a strict Content-Security-Policy', async () => {
    const emulator = await startEmulator({ directoryFile: EXAMPLE });
    try {
      const res = await fetch(`${emulator.baseUrl}/`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      const page = await res.text();
      expect(page).not.toMatch(/<script>|style="/);
      for (const target of APPS) {
        expect(page).toContain(`<code>${target}</code>`);
        expect(page).toContain(`<code>${emulator.clientIdFor(target)}</code>`);
        expect(page).toContain(`<code>npx entra-emulator env ${target} --url ${emulator.baseUrl}</code>`);
      }
      expect(page).toContain('<code>dev-gcp:nais:azure-token-generator</code><br><code>dev-gcp:team-a:consumer</code>');
      expect(page).toContain('members of 3e3b4b1c-0000-4000-8000-00000000a001');
      expect(page).toContain('1 secret');
      expect(page).not.toContain('consumer-secret-for-local-use');
      expect(page).toContain('<code>dev-gcp:team-b:no-entra</code>');
      expect(page).toContain('<code>Z990002 (Ola Nordmann)</code>');
      expect(page).toContain(`tenant <code>${emulator.tenantId}</code>`);
    } finally {
      await emulator.close();
    }
  });
});

describe('the overview of the open directory', () => {
  it('lists the exceptions instead of hiding them under "open", and examples that avoid them', async () => {
    const emulator = await startEmulator({
      unauthorizedTargets: ['dev-gcp:my-team:my-api'],
      missingTargets: ['dev-gcp:ghost:api', 'dev-gcp:my-team:my-app'],
    });
    try {
      const summary = emulator.summary;
      expect(summary).toContain('directory: open');
      expect(summary).toContain('exceptions: authorized nobody (EMULATOR_UNAUTHORIZED_TARGETS): dev-gcp:my-team:my-api');
      expect(summary).toContain('exceptions: not in the tenant (EMULATOR_MISSING_TARGETS): dev-gcp:ghost:api, dev-gcp:my-team:my-app');
      const page = await (await fetch(`${emulator.baseUrl}/`)).text();
      expect(page).toContain('Authorized nobody (EMULATOR_UNAUTHORIZED_TARGETS)</h2><ul><li><code>dev-gcp:my-team:my-api</code>');
      expect(page).toContain('<li><code>dev-gcp:ghost:api</code></li>');

      const example = /curl -s (\S+) -d identity_provider=entra_id -d target=(\S+)/.exec(summary)!;
      expect(example[0]).not.toMatch(/my-team:my-app(?!-)|my-team\.my-api\//);
      const res = await fetch(example[1]!, {
        method: 'POST',
        body: new URLSearchParams({ identity_provider: 'entra_id', target: example[2]! }),
      });
      expect(res.status).toBe(200);
      // An app the open directory made when it was first named is listed with its client id.
      expect(emulator.summary).toMatch(/dev-gcp:my-team:my-app-2 {2}client id [0-9a-f-]{36}/);
    } finally {
      await emulator.close();
    }
  });
});
