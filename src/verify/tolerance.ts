/** What "equivalent" means for a pruned network. */
export type Tolerance =
  | { kind: 'exact' }
  | { kind: 'linf'; epsilon: number }
  | { kind: 'class'; order: 'argmax' | 'argmin'; margin: number };

/**
 * The winning output of a score vector (first on ties; 'argmin': the lowest score wins) and its lead over the
 * others (the smallest gap; Infinity with one output). What "the same class" compares.
 */
export function classWinner(y: ArrayLike<number>, order: 'argmax' | 'argmin'): { at: number; lead: number } {
  const s = order === 'argmax' ? 1 : -1;
  let at = 0;
  for (let k = 1; k < y.length; k++) if (s * y[k] > s * y[at]) at = k;
  let lead = Infinity;
  for (let k = 0; k < y.length; k++) if (k !== at) lead = Math.min(lead, s * (y[at] - y[k]));
  return { at, lead };
}

/**
 * Whether g's scores break a class claim at one point: f's winner leads by at least `margin` (elsewhere the claim
 * says nothing) and g's winner is another output.
 */
export function classChanged(yf: ArrayLike<number>, yg: ArrayLike<number>, order: 'argmax' | 'argmin', margin: number): boolean {
  const wf = classWinner(yf, order);
  return wf.lead >= margin && classWinner(yg, order).at !== wf.at;
}

export function describeTolerance(t: Tolerance): string {
  switch (t.kind) {
    case 'exact':
      return 'exact (up to floating-point rounding)';
    case 'linf':
      return `max |f(x) - g(x)| <= ${t.epsilon} on every output`;
    case 'class':
      return `same ${t.order} class${t.margin > 0 ? ` wherever the original wins by at least ${t.margin}` : ''}`;
  }
}
