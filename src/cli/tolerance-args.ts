import { fail } from '../errors.ts';
import type { Tolerance } from '../verify/tolerance.ts';
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
