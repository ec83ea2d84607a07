/**
 * A mistake in the configuration, naming the variable: in a module of its own, without zod, because it is part of the
 * emulator's published API (and its declarations) while the rest of env.ts is not.
 */

/** What marks a ConfigError from any copy of this module: the emulator's bundle carries its own beside the generator's. */
const BRAND = Symbol.for('entra-token-generator.ConfigError');

export class ConfigError extends Error {
  readonly [BRAND] = true;

  constructor(
    readonly variable: string,
    /** What is wrong, after the variable's name: `must be …, not "…"`. */
    readonly problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && BRAND in value;
  }

  /** The fault as a sentence for people: `PORT must be a whole number from 0 to 65535, not "abc"`. */
  get sentence(): string {
    return `${this.variable} ${this.problem}`;
  }
}
