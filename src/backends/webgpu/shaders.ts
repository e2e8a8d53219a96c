// The WGSL shader modules: each is the generated declarations it uses
// (build/gen/*.wgsl, from src/backends/primitives/), the shared helpers, then
// the family's own kernel file. WGSL has no includes, so this list is where a
// module's parts are named. A new kernel family adds one entry.
import activationDecls from '../../../build/gen/activation.wgsl';
import convDecls from '../../../build/gen/conv.wgsl';
import attentionDecls from '../../../build/gen/attention.wgsl';
import elementwiseDecls from '../../../build/gen/elementwise.wgsl';
import embeddingDecls from '../../../build/gen/embedding.wgsl';
import gatherDecls from '../../../build/gen/gather.wgsl';
import limitsDecls from '../../../build/gen/limits.wgsl';
import matmulDecls from '../../../build/gen/matmul.wgsl';
import normDecls from '../../../build/gen/norm.wgsl';
import optimDecls from '../../../build/gen/optim.wgsl';
import poolDecls from '../../../build/gen/pool.wgsl';
import reduceDecls from '../../../build/gen/reduce.wgsl';
import softmaxDecls from '../../../build/gen/softmax.wgsl';
import stridedDecls from '../../../build/gen/strided.wgsl';
import xentDecls from '../../../build/gen/xent.wgsl';
import activations from '../../../kernels-wgsl/activations.wgsl';
import conv from '../../../kernels-wgsl/conv.wgsl';
import convDepthwise from '../../../kernels-wgsl/conv-depthwise.wgsl';
import attention from '../../../kernels-wgsl/attention.wgsl';
import doubleFloat from '../../../kernels-wgsl/double-float.wgsl';
import elementwise from '../../../kernels-wgsl/elementwise.wgsl';
import embedding from '../../../kernels-wgsl/embedding.wgsl';
import gather from '../../../kernels-wgsl/gather.wgsl';
import ieee from '../../../kernels-wgsl/ieee.wgsl';
import matmulCommon from '../../../kernels-wgsl/matmul-common.wgsl';
import matmulRegister from '../../../kernels-wgsl/matmul-register.wgsl';
import matmulSmall from '../../../kernels-wgsl/matmul-small.wgsl';
import matmulSubgroup from '../../../kernels-wgsl/matmul-subgroup.wgsl';
import matmul from '../../../kernels-wgsl/matmul.wgsl';
import norm from '../../../kernels-wgsl/norm.wgsl';
import optim from '../../../kernels-wgsl/optim.wgsl';
import pool from '../../../kernels-wgsl/pool.wgsl';
import reduce from '../../../kernels-wgsl/reduce.wgsl';
import softmax from '../../../kernels-wgsl/softmax.wgsl';
import strided from '../../../kernels-wgsl/strided.wgsl';
import xent from '../../../kernels-wgsl/xent.wgsl';

// The activation functions (activations.wgsl, with the double-float helpers gelu uses and the
// special-value bit tests of ieee.wgsl) and their codes go to every module that applies an
// activation or its derivative.
const withActivations = (...parts: string[]) => activationDecls + elementwiseDecls + ieee + doubleFloat + activations + parts.join('');
const matmulModule = (kernel: string) => withActivations(matmulDecls, matmulCommon, kernel);

export const SOURCES = {
  elementwise: withActivations(limitsDecls, elementwise),
  matmul: matmulModule(matmul),
  matmulSmall: matmulModule(matmulSmall),
  matmulRegister: matmulModule(matmulRegister),
  // Created only on devices with the 'subgroups' feature, which the enable directive (first) needs.
  matmulSubgroup: 'enable subgroups;\n' + matmulModule(matmulSubgroup),
  optim: optimDecls + doubleFloat + optim,
  // The depthwise forward shares conv.wgsl's bindings and helpers.
  conv: withActivations(convDecls, conv, convDepthwise),
  pool: poolDecls + ieee + pool,
  softmax: withActivations(softmaxDecls, softmax),
  reduce: reduceDecls + ieee + reduce,
  strided: limitsDecls + stridedDecls + strided,
  // exp1 / log1 come from activations.wgsl.
  attention: withActivations(attentionDecls, attention),
  norm: normDecls + norm,
  embedding: embeddingDecls + embedding,
  xent: withActivations(xentDecls, xent),
  gather: limitsDecls + gatherDecls + ieee + doubleFloat + gather,
} as const;
export type ShaderModule = keyof typeof SOURCES;
