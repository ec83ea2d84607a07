/**
 * "Did you mean": the known word nearest to a mistyped one, when it is near enough to be the
 * likely intent (an edit or two, a letter swapped, or the start of the word).
 */

/** Edits (insert, delete, replace, swap two neighbours) from `a` to `b`. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

export function closest(word: string, known: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let found: { candidate: string; cost: number } | undefined;
  for (const candidate of known) {
    const cost = candidate.startsWith(lower) && lower.length >= 2 ? 0.5 : distance(lower, candidate);
    if (cost <= Math.max(1, Math.floor(candidate.length / 3)) && (!found || cost < found.cost)) found = { candidate, cost };
  }
  return found?.candidate;
}

/** ` (did you mean x?)`, or nothing when no known word is near. */
export function didYouMean(word: string, known: readonly string[], shown: (candidate: string) => string = (c) => c): string {
  const candidate = closest(word, known);
  return candidate ? ` (did you mean ${shown(candidate)}?)` : '';
}
