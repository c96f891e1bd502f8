/**
 * A synthetic image set drawn from the seeded RNG: one-channel side x side images in [0, 1] of four classes, a shape
 * at a random place on uniform background noise: 0 a horizontal bar (length 5 to 8), 1 a vertical bar (length 5 to
 * 8), 2 a cross (a plus of arms 2: 5 x 5), 3 a blob (a filled 3 x 3 square). Pixel = min(1, noise + intensity * shape),
 * noise uniform in [0, NOISE], intensity uniform in [0.6, 1]. Bars and crosses share strokes, so the classes are
 * told apart by shape, not by brightness alone.
 */
import { mulberry32 } from '../../model/rng.ts';

export const CLASSES = 4;
export const NOISE = 0.5;

export interface ImageSet {
  /** [n, 1, side, side] row-major */
  readonly x: Float64Array;
  readonly labels: Int32Array;
  readonly n: number;
  readonly side: number;
}

type Rng = () => number;
const pick = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

/** Marks the shape of class `label` on the side x side mask (1 on the shape). */
function drawShape(r: Rng, mask: Float64Array, side: number, label: number): void {
  const set = (i: number, j: number): void => void (mask[i * side + j] = 1);
  if (label === 0 || label === 1) {
    const len = pick(r, 5, 8);
    const along = pick(r, 0, side - len);
    const across = pick(r, 0, side - 1);
    for (let t = 0; t < len; t++) (label === 0 ? set(across, along + t) : set(along + t, across));
  } else if (label === 2) {
    const ci = pick(r, 2, side - 3);
    const cj = pick(r, 2, side - 3);
    for (let t = -2; t <= 2; t++) {
      set(ci + t, cj);
      set(ci, cj + t);
    }
  } else {
    const i0 = pick(r, 0, side - 3);
    const j0 = pick(r, 0, side - 3);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) set(i0 + i, j0 + j);
  }
}

/** n images of side x side (side >= 5), labels uniform over the classes; the same seed gives the same set. */
export function makeImages(seed: number, n: number, side = 12): ImageSet {
  if (side < 5) throw new Error(`internal: images of side ${side} cannot hold the shapes (5 at least)`);
  const r = mulberry32(seed);
  const plane = side * side;
  const x = new Float64Array(n * plane);
  const labels = new Int32Array(n);
  const mask = new Float64Array(plane);
  for (let k = 0; k < n; k++) {
    const label = Math.min(CLASSES - 1, Math.floor(r() * CLASSES));
    labels[k] = label;
    mask.fill(0);
    drawShape(r, mask, side, label);
    const intensity = 0.6 + 0.4 * r();
    for (let i = 0; i < plane; i++) x[k * plane + i] = Math.min(1, NOISE * r() + intensity * mask[i]);
  }
  return { x, labels, n, side };
}
