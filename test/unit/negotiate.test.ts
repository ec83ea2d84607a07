import { describe, expect, it } from 'vitest';
import { isNavigation, preferredFormat } from '../../src/generator/http/negotiate.js';

describe('preferredFormat', () => {
  it.each([
    [undefined, 'text'],
    ['*/*', 'text'],
    ['application/*', 'text'],
    ['application/json', 'json'],
    ['text/plain, application/json', 'text'],
    ['text/plain;q=0.5, application/json', 'json'],
    ['application/json;q=0', 'text'],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'html'],
    ['APPLICATION/JSON', 'json'],
    ['application/json;q=abc', 'text'],
  ])('%s -> %s', (accept, expected) => {
    expect(preferredFormat(accept, ['text', 'json', 'html'], 'text')).toBe(expected);
  });

  it('only picks formats the route offers', () => {
    expect(preferredFormat('text/html', ['text', 'json'], 'text')).toBe('text');
  });
});

describe('isNavigation', () => {
  it('trusts Sec-Fetch-Mode, else looks for text/html in Accept', () => {
    expect(isNavigation({ 'sec-fetch-mode': 'navigate', accept: '*/*' })).toBe(true);
    expect(isNavigation({ 'sec-fetch-mode': 'cors', accept: 'text/html' })).toBe(false);
    expect(isNavigation({ accept: 'text/html,*/*' })).toBe(true);
    expect(isNavigation({ accept: '*/*' })).toBe(false);
  });
});
