/**
 * docs/development.md's layout of the code names every file directly under src/, and the root files the emulator's
 * package imports are the ones the dependency rules let it import.
 */
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const guide = readFileSync('docs/development.md', 'utf8');

describe('docs/development.md', () => {
  it('names every file directly under src/', () => {
    const files = readdirSync('src').filter((name) => name.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    expect(files.filter((name) => !new RegExp(`\\b${name.replace('.', '\\.')}\\b`).test(guide))).toEqual([]);
  });

  it('names as the root files the emulator imports those .dependency-cruiser.cjs lets it import', () => {
    const rules = (
      createRequire(import.meta.url)('../../.dependency-cruiser.cjs') as {
        forbidden: { name: string; to: { pathNot?: string } }[];
      }
    ).forbidden;
    const allowed = /\(([\w|-]+)\)/.exec(rules.find((rule) => rule.name === 'emulator-stands-alone')!.to.pathNot!)![1]!.split('|');
    const sentence = /Of the root it imports only the shared basics\s*\(([^)]+)\)/.exec(guide)![1]!;
    const named = sentence.split(/,\s*/).map((name) => name.trim().replace(/\.ts$/, ''));
    expect(named.sort()).toEqual(allowed.sort());
  });
});
