/**
 * `npm start` with `EMULATOR_TLS=self-signed`: the generator must trust the emulator's CA, and
 * Node.js reads its extra CA certificates (NODE_EXTRA_CA_CERTS) only as it starts. So the CA is
 * made in the state folder first, a bundle of it and any certificates NODE_EXTRA_CA_CERTS named
 * before is written there, and the program runs itself again with NODE_EXTRA_CA_CERTS set to it.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { STOP_SIGNALS } from '../../../src/stop-signals.js';
import { emulatorOptionsFromEnv } from './env.js';
import { StateFolder } from './state.js';
import { ensureStateCa } from './tls.js';

const BUNDLE = 'trusted-cas.pem';

/** Runs this program again trusting the emulator's CA; false, doing nothing, when it trusts it already or needs not. */
export async function relaunchTrustingEmulatorCa(env: NodeJS.ProcessEnv): Promise<boolean> {
  const { tls, stateDir } = emulatorOptionsFromEnv(env);
  if (!tls || !('selfSigned' in tls) || tls.selfSigned.caFile) return false;
  if (!stateDir)
    throw new Error(
      'EMULATOR_TLS: npm start with a self-signed certificate keeps its CA in the state folder; EMULATOR_STATE_DIR must not be empty',
    );
  const state = await StateFolder.open(stateDir);
  if (env.NODE_EXTRA_CA_CERTS === state.file(BUNDLE)) return false;
  const ca = await readFile(await ensureStateCa(state), 'utf8');
  const before = env.NODE_EXTRA_CA_CERTS ? await readFile(env.NODE_EXTRA_CA_CERTS, 'utf8').catch(() => '') : '';
  await state.writeText(BUNDLE, `${before}${before && !before.endsWith('\n') ? '\n' : ''}${ca}`, 0o644);
  runAgain({ ...env, NODE_EXTRA_CA_CERTS: state.file(BUNDLE) });
  return true;
}

/** This process's command run again as a child with `env`, the stop signals passed on, exiting as it does. */
function runAgain(env: NodeJS.ProcessEnv): void {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  for (const signal of STOP_SIGNALS) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
