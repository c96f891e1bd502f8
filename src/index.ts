/**
 * nnshrink as a library: `import { loadModel, prune, checkCertificate } from 'nnshrink'`. The async calls do what
 * the commands do (the CLI is a thin layer over them: it parses, calls, prints): {@link prune}, {@link quantize},
 * {@link slice}, {@link checkCertificate}, {@link verify}, {@link bounds}, {@link census}, {@link equiv}; each takes an
 * AbortSignal and a progress callback ({@link RunOptions}). Under them, the typed functions they are made of.
 *
 * Units: a network maps raw inputs to raw outputs; an NNet file is read in raw units unless `view: 'normalized'`.
 * Errors in the input (a bad file, a box of the wrong size), and the outcomes that end a call without its result
 * (refuted, not proved, aborted) throw {@link NnsError}: a one-line message naming the file, the place and the
 * problem, and its `code`, `file` and `place`; anything else that throws is a bug.
 */

// ---- errors and version ----
export {
  /** The one error class: a printable line (at most 280 characters) naming the file, the place and the problem; its code, file and place. */
  NnsError,
  /** The exit code of each error code (docs/exit-codes.md). */
  EXIT_OF_CODE,
  type NnsErrorCode,
  type NnsErrorDetails,
} from './errors.ts';
export {
  /** The package's version, as `nnshrink --version` prints it. */
  VERSION,
} from './version.ts';

// ---- the commands as calls: async, with an options object, an AbortSignal and progress ----
export {
  /** Removes the neurons (chains) or channels (graphs) proved redundant; proves the file as written; writes it with its certificate. */
  prune,
  type Model,
  type PruneOptions,
  type Pruned,
} from './api/prune.ts';
export type { ChainPruneSummary } from './api/prune-chain.ts';
export type { GraphPruneSummary, GraphSearchReport } from './api/prune-graph.ts';
export {
  /** Decides equiv for two loaded models as `nnshrink equiv` does: certificate, diff or product method (its trees on threads or the job queue), or the graph checks. */
  equivModels,
  type EquivModelsOptions,
  type EquivResult,
  type EquivMethod,
} from './api/equiv.ts';
export {
  /** prune --quantize: prunes, quantises the pruned network, and certifies max |f - q| <= D + E in one certificate. */
  pruneAndQuantize,
  type PruneQuantizeOptions,
  type PruneQuantCertificate,
} from './api/prune-quantize.ts';
export {
  /** Re-proves a certificate (chain prune, graph prune, quantisation) or a slice family from the files as stored. */
  checkCertificate,
  type CheckOptions,
  type Checked,
} from './api/check.ts';
export type { ChainCheckResult, SliceCheck } from './api/check-chain.ts';
export {
  /** Stores a chain in float16 or int8 ONNX, proved within a tolerance (or keeping the class) of the original. */
  quantize,
  type QuantizeOptions,
  type QuantAsk,
  type Quantized,
} from './api/quantize.ts';
export {
  /** Splits the domain into boxes, prunes each, and writes the family with its dispatcher. */
  slice,
  type SliceOptions,
  type Sliced,
} from './api/slice.ts';
export type {
  /** The options every long call takes: an AbortSignal and a progress callback. */
  RunOptions,
  /** One progress report: the stage, work done and total, more detail, time left. */
  Progress,
} from './api/run.ts';
export {
  /** Decides a VNN-LIB property of a network or graph: sat (with a re-checked counterexample), unsat or unknown. */
  verify,
  /** Proves two networks equivalent (|f - g| <= epsilon, or the same class) on a domain, or refutes it. */
  equiv,
  type SearchOptions,
  type EquivQuestion,
} from './api/search.ts';
export {
  /** Sound bounds over a domain: a chain's every neuron (interval, symbolic, CROWN, alpha-CROWN), a graph's outputs and ReLU inputs. */
  bounds,
  /** The maximum or minimum of a linear function of one layer over a domain: a witness's value and a proved bound. */
  optimize,
  /** One hidden neuron's phase over a domain: never / always active (proved), both (witnessed), unknown. */
  neuronPhase,
  type BoundsMethod,
  type BoundsOptions,
  type ChainBounds,
  type GraphBounds,
  type GraphMethod,
  type ActivationBounds,
  type Objective,
  type OptimizeOptions,
} from './api/bounds.ts';
export {
  /** The phase of every hidden ReLU over a domain: never / always active (proved), both (witnessed), unknown. */
  census,
  type CensusOptions,
} from './api/census.ts';
export type { MaximizeResult, NeuronPhaseAnswer } from './verify/property/maximize.ts';

// ---- networks ----
export {
  /** A feed-forward network of dense layers, each neuron ReLU or identity (`relu[i]` 1 or 0). */
  type Network,
  /** One dense layer: `weights` out x in row-major, `bias`, and per neuron its activation. */
  type Layer,
  type SizeMetrics,
  /** A dense layer from its sizes, weights, bias and activations (true: all ReLU), its sizes checked. */
  makeLayer,
  /** Checks that the layers' sizes chain and every number is finite; throws NnsError naming `where`. */
  validateNetwork,
  /** The network's outputs at one input. */
  evaluate,
  /** The network's outputs for `batch` inputs stored one after another in `x`. */
  forward,
  /** The number of outputs. */
  outputSize,
  /** Neurons, ReLUs, parameters (nonzero too), multiply-adds and layer sizes: what `nnshrink info` prints. */
  sizeMetrics,
  /** A deep copy (the library treats networks as immutable; copy before editing one). */
  cloneNetwork,
} from './model/network.ts';
export {
  /** The SHA-256 of a network's numbers and activations: what certificates name networks by. */
  networkHash,
} from './model/hash.ts';
export {
  /** The embedded demo network (5 inputs in [-1, 1], 3 outputs) with its domain: what `--default` loads. */
  defaultModel,
  /** The embedded demo network alone. */
  defaultNetwork,
} from './demo/default-network.ts';

// ---- graphs (convolutional and residual ONNX networks) ----
export {
  /** A graph: one input tensor, operator nodes in topological order, one output; shapes are per sample. */
  type Graph,
  type GraphNode,
  type Tensor,
  type Shape,
} from './model/graph/types.ts';
export {
  /** A graph's outputs for `batch` inputs, each its input tensor flattened row-major. */
  forwardGraph,
} from './model/graph/forward.ts';
export {
  /** Whether a graph is a chain of dense layers (then graphToChain gives the fast Network form). */
  isChain,
  /** The Network of a chain graph. */
  graphToChain,
} from './model/graph/chain.ts';
export {
  /** Reads an ONNX file as a graph (constant sub-graphs folded, every shape checked). */
  readOnnxGraph,
  /** The graph of ONNX bytes; `path` names them in messages. */
  parseOnnxGraph,
} from './formats/onnx-graph/read.ts';
export {
  /** Writes a graph as ONNX (atomically). */
  writeOnnxGraph,
  /** A graph as ONNX bytes. */
  encodeGraphOnnx,
  type GraphWriteOptions,
} from './formats/onnx-graph/write.ts';

// ---- files ----
export {
  /** Reads a .nnet, .onnx or .json model (a path, or the file's bytes) as a chain; `view` says how NNet units are read. */
  loadModel,
  /** Reads any model (a path or bytes): a chain (`kind: 'chain'`) or, for an ONNX graph that is not a chain, a graph. */
  loadAnyModel,
  /** Writes a network, a graph or a loaded model to a path (the format from its extension), atomically. */
  saveModel,
  /** The bytes (ONNX) or text (NNet, JSON) saveModel would write. */
  modelFileBytes,
  type LoadOptions,
  type SaveModelOptions,
} from './api/models.ts';
export {
  /** A model from bytes (or text) in a given format; `path` names them in messages. */
  parseModelBytes,
  /** A network as the bytes (ONNX) or text (NNet, JSON) of a format. */
  modelBytes,
  /** The format a path's extension names (throws NnsError for any other). */
  formatOf,
  type AnyModel,
} from './formats/load.ts';
export type {
  /** A loaded model: its network, the domain the file states (if any), its format and path. */
  LoadedModel,
  ModelFormat,
  SaveOptions,
  NNetNormalization,
} from './formats/model-file.ts';

// ---- domains and properties ----
export {
  /** An axis-aligned box of inputs: `lo[i] <= x[i] <= hi[i]` (Float64Array each). */
  type Box,
  /** A box from its two corners (copied into Float64Arrays). */
  makeBox,
  /** A box from the CLI's `lo1,lo2,..:hi1,hi2,..` text for `n` inputs. */
  parseBoxSpec,
  /** Checks a box has `n` finite intervals with lo <= hi; throws NnsError naming `where`. */
  validateBox,
  /** Whether a point lies in a box (within `tol`). */
  containsPoint,
  /** A box as plain JSON arrays, and back. */
  boxToJSON,
  boxFromJSON,
} from './model/box.ts';
export {
  /** Reads a VNN-LIB property file: its input regions and output constraints. */
  readVnnlib,
  /** A VNN-LIB property from its text; `path` names it in messages. */
  parseVnnlib,
  /** Whether (x, y) satisfies the property's negation, i.e. is a counterexample. */
  isCounterexample,
  type VnnProperty,
} from './formats/vnnlib.ts';

// ---- bounds, verification, census, equivalence: the functions under the conveniences ----
export {
  /** Interval bounds (the loosest, cheapest). */
  intervalBounds,
} from './bounds/interval.ts';
export {
  /** Forward symbolic bounds. */
  symbolicBounds,
} from './bounds/symbolic.ts';
export {
  /** CROWN: forward symbolic, then back-substitution for the unstable neurons. */
  crownBounds,
} from './bounds/backward.ts';
export {
  /** alpha-CROWN: CROWN with its ReLU slopes optimised by gradient steps. */
  alphaCrownBounds,
} from './bounds/alpha.ts';
export type { LayerBounds, NetworkBounds } from './bounds/types.ts';
export {
  /** CROWN bounds of every tensor of a graph over a box (a Map from tensor name to its interval). */
  graphCrownBounds,
} from './bounds/graph/crown.ts';
export {
  /** Interval bounds of every tensor of a graph. */
  graphIntervalBounds,
} from './bounds/graph/interval.ts';
export {
  /** Loads the MILP solver (HiGHS, WebAssembly) once; the conveniences do it, the functions below expect it done. */
  loadMilpSolver,
} from './verify/search/milp.ts';
export {
  /** Decides a property of a network in this thread (input splitting with CROWN bounds, then MILP). */
  decideProperty,
  type PropertyResult,
  type PropertyOptions,
} from './verify/property/property.ts';
export {
  /** Decides a property of a graph (ReLU splitting, MILP for small leftovers), counterexamples re-checked. */
  decideGraph,
} from './verify/property/instance.ts';
export {
  /** The phase census of a network in this thread. */
  phaseCensus,
  type PhaseCensus,
  type NeuronPhase,
  type Phase,
  type PhaseOptions,
} from './verify/phase/phase.ts';
export {
  /** The phase census of a graph, per ReLU node and per channel. */
  graphPhaseCensus,
  type GraphCensus,
} from './verify/graph/census.ts';
export {
  /** max |f - g| <= epsilon by the layer-by-layer difference (f and g of the same layer sizes: `alignedPair`). */
  checkLinf,
  /** The same winning class by the layer-by-layer difference. */
  checkClass,
  type LinfResult,
  type ClassResult,
  type EquivOptions,
} from './verify/equiv/equiv.ts';
export {
  /** The trivial pairing of two networks of the same shape, for checkLinf and checkClass. */
  alignedPair,
} from './verify/equiv/diff/diff-pair.ts';
export {
  /** max |f - g| <= epsilon for any two networks: the two side by side as one. */
  checkLinfProduct,
  /** The same class for any two networks. */
  checkClassProduct,
} from './verify/equiv/equiv-product.ts';
export {
  /** max |f - g| <= epsilon for two graphs. */
  checkGraphLinf,
  /** The same class for two graphs. */
  checkGraphClass,
} from './verify/graph/equiv.ts';
export type {
  /** proved (licenses a change), refuted (with a re-checked witness) or unknown (keep). */
  Verdict,
  VerdictStatus,
} from './verify/verdict.ts';
export type {
  /** What "equivalent" means: exact, within epsilon (L-infinity), or the same class. */
  Tolerance,
} from './verify/tolerance.ts';

// ---- certificates ----
export {
  /** A prune certificate from its text, validated against its JSON Schema (docs/certificate.md). */
  parseCertificate,
  type Certificate,
} from './simplify/certificate.ts';
export {
  /** Reads a certificate and the two networks it names, matched by hash, its domain checked against the original. */
  readCertified,
  type Certified,
} from './api/certified.ts';
export {
  /** A graph (channel-pruning) certificate from its parsed JSON, validated. */
  validateGraphCertificate,
  type GraphCertificate,
} from './simplify/graph/certificate.ts';

// ---- the types the ones above are made of (named so that a program can spell them) ----
export type { ConvNode, DenseNode, BinaryNode, AffineNode, BatchNormNode, PReluNode, ClipNode, GlobalAvgPoolNode, ConcatNode, ReshapeNode, TransposeNode, PadNode } from './model/graph/types.ts';
export type { OnnxSource } from './formats/model-file.ts';
export type { TensorBounds } from './bounds/graph/types.ts';
export type { BoundsFn, OutputLinearLower } from './verify/bounds-fn.ts';
export type { SplitStrategy } from './verify/search/input-split.ts';
export type { ClassOptions } from './verify/graph/equiv-class.ts';
export type { GraphEquivOptions } from './verify/graph/equiv-linf.ts';
export type { GraphTolerance } from './simplify/graph/certificate.ts';
export type { ClassPruneStats } from './simplify/graph/class-prune.ts';
export type { QuantTolerance } from './simplify/quantize/certificate.ts';
