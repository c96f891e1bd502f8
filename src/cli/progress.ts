/**
 * Progress on stderr, only when stderr is a terminal and not in --json mode: phase, done/total, an estimate of the
 * time left, and extra fields. Throttled to 10 redraws a second; `done()` clears the line.
 */
export interface Progress {
  /** leftS: the caller's own bound on the time left (a time-limited search), instead of the done/total estimate */
  update(phase: string, done: number, total: number, extra?: string, leftS?: number): void;
  done(): void;
}

export function makeProgress(enabled: boolean): Progress {
  const tty = enabled && process.stderr.isTTY === true;
  let last = 0;
  let phaseStart = Date.now();
  let curPhase = '';
  let shown = false;
  return {
    update(phase, done, total, extra, leftS) {
      if (!tty) return;
      const now = Date.now();
      if (phase !== curPhase) {
        curPhase = phase;
        phaseStart = now;
      }
      if (now - last < 100) return;
      last = now;
      const frac = total > 0 ? Math.min(1, done / total) : 0;
      const el = (now - phaseStart) / 1000;
      const eta =
        leftS !== undefined ? ` at most ${Math.ceil(leftS)}s left` : frac > 0.02 && frac < 1 ? ` ~${Math.ceil((el * (1 - frac)) / frac)}s left` : '';
      // total <= 0: a search with no count to finish (only the extra text and the time)
      const line = `${phase}:${total > 0 ? ` ${done}/${total}` : ''}${eta}${extra ? `  ${extra}` : ''}  [${el.toFixed(0)}s]`;
      const cols = process.stderr.columns && process.stderr.columns > 20 ? process.stderr.columns : 120;
      process.stderr.write(`\r\x1b[K${line.slice(0, cols - 1)}`);
      shown = true;
    },
    done() {
      if (tty && shown) process.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}
