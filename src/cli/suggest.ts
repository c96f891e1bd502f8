/** "Did you mean": the known word nearest to a misspelt command or option, when one is near enough to be meant. */

/**
 * Edit distance with adjacent transpositions (optimal string alignment): 'prnue' is one step from 'prune', as a
 * slip of the fingers is. Words here are short (command and option names), so the full table is cheap.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d = new Int32Array(rows * cols);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[(i - 1) * cols + j] + 1, d[i * cols + j - 1] + 1, d[(i - 1) * cols + j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[(i - 2) * cols + j - 2] + 1);
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1];
}

/**
 * The candidate the user most likely meant by `word`, or undefined when none is close: within a third of the word's
 * length in edits (at least one), or a unique candidate the word begins (an abbreviation such as 'dom' for 'domain',
 * which the parser does not take by itself). Ties go to the candidate listed first.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  if (!w) return undefined;
  const limit = Math.max(1, Math.floor(w.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = editDistance(w, c.toLowerCase());
    if (dist <= limit && dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  if (best !== undefined) return best;
  const extending = w.length >= 3 ? candidates.filter((c) => c.toLowerCase().startsWith(w)) : [];
  return extending.length === 1 ? extending[0] : undefined;
}

/** "; did you mean 'x'?" to append to a message, or '' when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[], prefix = ''): string {
  const hit = closest(word, candidates);
  return hit === undefined ? '' : `; did you mean '${prefix}${hit}'?`;
}
