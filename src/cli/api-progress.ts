/** The library's progress reports (src/api/run.ts) shown on a command's progress line (progress.ts). */
import type { Progress as ApiProgress } from '../api/run.ts';
import type { Progress } from './progress.ts';

/** A library call's onProgress drawing `p`; `extra` adds the command's own state (a queue's) to the detail. */
export const showing = (p: Progress, extra: () => string = () => '') => (r: ApiProgress): void =>
  p.update(r.stage, r.done, r.total, [r.detail, extra()].filter(Boolean).join('  '), r.leftMs === undefined ? undefined : r.leftMs / 1000);
