/**
 * The port of an emulator a program starts (`entra-emulator`, and `npm start`'s), and where `entra-emulator env`
 * looks for one: 8081 when EMULATOR_PORT is unset or blank, as a blank variable is unset everywhere else. In
 * process (`startEmulator()`) the port is a free one unless told.
 */
export const COMMAND_PORT = 8081;

/** `env` with EMULATOR_PORT as the programs read it. */
export function withCommandPort(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, EMULATOR_PORT: env.EMULATOR_PORT?.trim() || String(COMMAND_PORT) };
}
