/**
 * The answer to every verification question. Only `proved` ever licenses a change to a network.
 * A `refuted` verdict carries a witness input that was re-checked by plain forward evaluation.
 * `unknown` (timeout, resource limit, incomplete method) always means "keep the neuron".
 */
export type Verdict =
  | { status: 'proved'; method: string; timeMs: number; detail?: Record<string, unknown> }
  | { status: 'refuted'; method: string; timeMs: number; witness: Float64Array; detail?: Record<string, unknown> }
  | { status: 'unknown'; method: string; timeMs: number; reason: string; detail?: Record<string, unknown> };

/** proved (licenses a change), refuted (with a re-checked witness) or unknown (keep). */
export type VerdictStatus = Verdict['status'];
