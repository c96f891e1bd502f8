/** What "equivalent" means for a pruned network. */
export type Tolerance =
  | { kind: 'exact' }
  | { kind: 'linf'; epsilon: number }
  | { kind: 'class'; order: 'argmax' | 'argmin'; margin: number };

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
