import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, lazyChild } from '../../src/logger.js';

function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger(level, destination), lines };
}

describe('lazyChild', () => {
  it('makes the pino child only when something is written, with the bindings and the redaction of a real child', () => {
    const { logger, lines } = capture();
    const child = vi.spyOn(logger, 'child');
    const lazy = lazyChild(logger, { reqId: 'r-1' });
    lazy.debug('below the level');
    expect(lazy.level).toBe('info');
    expect(lazy.isLevelEnabled('debug')).toBe(false);
    expect(child).not.toHaveBeenCalled();

    lazy.warn({ token: 'eyJ.secret.value', detail: { access_token: 'abc' } }, 'something happened');
    lazy.info('and again');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'warn', reqId: 'r-1', token: '[redacted]', detail: { access_token: '[redacted]' }, msg: 'something happened' });
    expect(lines[1]).toMatchObject({ level: 'info', reqId: 'r-1', msg: 'and again' });
  });

  it('gives children of its own that keep its bindings', () => {
    const { logger, lines } = capture();
    lazyChild(logger, { reqId: 'r-2' }).child({ component: 'x' }).error('failed');
    expect(lines[0]).toMatchObject({ level: 'error', reqId: 'r-2', component: 'x', msg: 'failed' });
  });
});
