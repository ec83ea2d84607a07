/** The command's name, and the one kind of failure it reports: a line for the reader and an exit code. */
export const NAME = 'token-generator';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The command line's session at the generator has `ended`, or was not consented for the target asked: it must log in again. */
export class LoginRequired extends Error {
  constructor(readonly ended: boolean) {
    super(ended ? 'the session ended' : 'the session is for another target');
  }
}
