/**
 * The graph MILP's model under construction: columns with bounds, sparse rows (CSR), and a sparse accumulator
 * for the expression being built. Every tensor element is held as `coef x column + constant` (a Rep), so value-
 * moving and elementwise affine operators cost no rows. Growth is counted against limits and stops with
 * LimitReached at once, so a model too large for the solver never takes more memory than the limits allow.
 */

export interface MilpLimits {
  /** binary columns (unstable ReLUs, max-pool candidates) */
  maxBinaries: number;
  maxRows: number;
  /** non-zero coefficients of all rows */
  maxNonzeros: number;
  /** coefficients scanned while extracting the rows of linear and relaxed operators (the building's own work) */
  maxScan: number;
}

/**
 * Defaults from a budget of about 256 MiB per model: HiGHS keeps the matrix by rows and by columns and copies it in
 * presolve, ~100 bytes per non-zero with our own arrays, so 2 million non-zeros; the rows' extraction scans at most
 * 2e9 coefficients (a few seconds); 5,000 binaries, beyond which a node limit ends the search long before the
 * optimum (measured sizes in the session report).
 */
export const DEFAULT_MILP_LIMITS: MilpLimits = { maxBinaries: 5_000, maxRows: 1_000_000, maxNonzeros: 2_000_000, maxScan: 2e9 };

export class LimitReached extends Error {
  constructor(what: string) {
    super(what);
    this.name = 'LimitReached';
  }
}

/** Each element of a tensor as coef[e] * x[col[e]] + cst[e]; col[e] = -1: the constant alone. */
export interface Rep {
  readonly col: Int32Array;
  readonly coef: Float64Array;
  readonly cst: Float64Array;
}

export const newRep = (n: number): Rep => ({ col: new Int32Array(n).fill(-1), coef: new Float64Array(n), cst: new Float64Array(n) });

export class MilpBuilder {
  readonly colLo: number[] = [];
  readonly colHi: number[] = [];
  readonly integer: number[] = [];
  readonly starts: number[] = [0];
  readonly idx: number[] = [];
  readonly val: number[] = [];
  readonly rowLo: number[] = [];
  readonly rowHi: number[] = [];
  binaries = 0;
  // the accumulated expression: sum acc[c] x_c over `touched`, plus accCst
  private acc = new Float64Array(1024);
  private inAcc = new Uint8Array(1024);
  private touched: number[] = [];
  private accCst = 0;

  constructor(readonly limits: MilpLimits) {}

  get numCols(): number {
    return this.colLo.length;
  }
  get numRows(): number {
    return this.rowLo.length;
  }

  addCol(lo: number, hi: number, binary = false): number {
    if (binary && ++this.binaries > this.limits.maxBinaries) throw new LimitReached(`more than ${this.limits.maxBinaries} binaries`);
    const c = this.colLo.length;
    this.colLo.push(lo);
    this.colHi.push(hi);
    this.integer.push(binary ? 1 : 0);
    if (c >= this.acc.length) {
      const a = new Float64Array(2 * this.acc.length);
      a.set(this.acc);
      this.acc = a;
      const m = new Uint8Array(2 * this.inAcc.length);
      m.set(this.inAcc);
      this.inAcc = m;
    }
    return c;
  }

  /** Adds w x_col to the expression. */
  term(col: number, w: number): void {
    if (w === 0) return;
    if (!this.inAcc[col]) {
      this.inAcc[col] = 1;
      this.touched.push(col);
    }
    this.acc[col] += w;
  }

  constant(v: number): void {
    this.accCst += v;
  }

  /** Adds w times element e of a tensor held as `r`. */
  addRep(r: Rep, e: number, w: number): void {
    if (w === 0) return;
    if (r.col[e] >= 0) this.term(r.col[e], w * r.coef[e]);
    this.accCst += w * r.cst[e];
  }

  /** The expression's column count (non-zero coefficients). */
  private live(): number {
    let k = 0;
    for (const c of this.touched) if (this.acc[c] !== 0) k++;
    return k;
  }

  private clear(): void {
    for (const c of this.touched) {
      this.acc[c] = 0;
      this.inAcc[c] = 0;
    }
    this.touched.length = 0;
    this.accCst = 0;
  }

  /** Ends the expression as the row lo <= expression <= hi (its constant moved to the sides). */
  row(lo: number, hi: number): void {
    for (const c of this.touched) {
      const a = this.acc[c];
      if (a === 0) continue;
      this.idx.push(c);
      this.val.push(a);
    }
    if (this.idx.length > this.limits.maxNonzeros) throw new LimitReached(`more than ${this.limits.maxNonzeros} non-zeros`);
    if (this.rowLo.length >= this.limits.maxRows) throw new LimitReached(`more than ${this.limits.maxRows} rows`);
    this.starts.push(this.idx.length);
    this.rowLo.push(lo - this.accCst);
    this.rowHi.push(hi - this.accCst);
    this.clear();
  }

  /**
   * Ends the expression as element e of `out`: an alias when it has at most one column, otherwise a new column
   * (bounds lo, hi: the tensor's) tied to it by an equality row.
   */
  toRep(out: Rep, e: number, lo: number, hi: number): void {
    const k = this.live();
    if (k <= 1) {
      out.col[e] = -1;
      out.coef[e] = 0;
      for (const c of this.touched) {
        if (this.acc[c] === 0) continue;
        out.col[e] = c;
        out.coef[e] = this.acc[c];
      }
      out.cst[e] = this.accCst;
      this.clear();
      return;
    }
    const y = this.addCol(lo, hi);
    out.col[e] = y;
    out.coef[e] = 1;
    out.cst[e] = 0;
    this.term(y, -1);
    this.row(0, 0);
  }
}
