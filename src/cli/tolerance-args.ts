import { fail } from '../errors.ts';
import type { Tolerance } from '../verify/tolerance.ts';
import type { EquivQuestion } from '../simplify/certified-equiv.ts';
import { numberOpt } from './common.ts';

export const TOLERANCE_OPTIONS = {
  epsilon: { type: 'string' },
  'preserve-class': { type: 'string' },
  margin: { type: 'string' },
} as const;

export function toleranceFrom(values: Record<string, unknown>): Tolerance {
  if (values.epsilon !== undefined && values['preserve-class'] !== undefined) fail('give either --epsilon or --preserve-class, not both');
  if (values.epsilon !== undefined) {
    const e = numberOpt(values, 'epsilon', 0, 0);
    return e === 0 ? { kind: 'exact' } : { kind: 'linf', epsilon: e };
  }
  const pc = values['preserve-class'];
  if (pc !== undefined) {
    if (pc !== 'argmax' && pc !== 'argmin') fail(`--preserve-class: '${String(pc)}' (expected argmax or argmin)`);
    return { kind: 'class', order: pc, margin: numberOpt(values, 'margin', 0, 0) };
  }
  if (values.margin !== undefined) fail('--margin goes with --preserve-class');
  return { kind: 'exact' };
}

/** equiv's question: --same-class ORDER [--margin M], or --epsilon E (0: report the proved bound). */
export function equivQuestion(values: Record<string, unknown>): EquivQuestion {
  const sc = values['same-class'];
  if (sc !== undefined) {
    if (sc !== 'argmax' && sc !== 'argmin') fail(`--same-class: '${String(sc)}' (expected argmax or argmin)`);
    return { kind: 'class', order: sc, margin: numberOpt(values, 'margin', 0, 0) };
  }
  if (values.epsilon === undefined) fail('equiv: give --epsilon E or --same-class argmax|argmin');
  return { kind: 'linf', epsilon: numberOpt(values, 'epsilon', 0, 0) };
}
