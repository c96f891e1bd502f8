/**
 * What every long library call takes: an AbortSignal and a progress callback. The work is synchronous within a
 * stage (a census round, a search step, a proof), so the signal is checked at every progress report and, between
 * stages, after the event loop has turned once (a timer's abort, AbortSignal.timeout, fires there). An abort
 * rejects with an NnsError of code `aborted` (name `AbortError`) and leaves no file written.
 */
import { NnsError } from '../errors.ts';

/** One progress report: the stage (as the CLI's progress line names it), and how far it is. */
export interface Progress {
  /** what runs now, e.g. `phase census`, `final check: sampling`, `quantize: int8` */
  stage: string;
  /** work done in this stage (0 when the stage has no count) */
  done: number;
  /** the stage's total work (0 when it has none: a time-limited search) */
  total: number;
  /** more to show: changes made, boxes searched */
  detail?: string;
  /** an upper bound on the stage's time left, in milliseconds, when it is time-limited */
  leftMs?: number;
}

/** The options every long call takes. */
export interface RunOptions {
  /** aborts the call: it rejects with an NnsError of code `aborted` (name `AbortError`), having written nothing */
  signal?: AbortSignal;
  /** called as the work goes on (synchronously, from inside the work: keep it short) */
  onProgress?: (p: Progress) => void;
}

/** The error an abort rejects with. */
export function abortError(signal?: AbortSignal): NnsError {
  const why = signal?.reason instanceof Error ? signal.reason.message : signal?.reason !== undefined ? String(signal.reason) : 'the operation was aborted';
  return new NnsError(`aborted: ${why}; nothing written`, { code: 'aborted' });
}

/** Throws the abort error when the signal has fired. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

/** Between two stages: lets the event loop turn (so a timer's abort can fire), then checks the signal. */
export async function checkpoint(signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  if (!signal) return;
  // a timer, not setImmediate: an immediate can run before the timers phase, so before a timer already due (the
  // abort's) has fired; timers due earlier run before this one
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
  throwIfAborted(signal);
}

/** The progress reporter a stage is given: the caller's callback, then the signal checked. */
export function reporter(o: RunOptions): (p: Progress) => void {
  return (p) => {
    o.onProgress?.(p);
    throwIfAborted(o.signal);
  };
}
