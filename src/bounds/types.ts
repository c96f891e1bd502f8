/** Per-layer bounds on pre-activations over an input box. */
export interface LayerBounds {
  /** lower bound of each neuron's pre-activation */
  lo: Float64Array;
  /** upper bound of each neuron's pre-activation */
  hi: Float64Array;
}

/** bounds[k] belongs to network layer k (same indexing as Network.layers). */
export type NetworkBounds = LayerBounds[];
