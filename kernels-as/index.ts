// Entry point of the Wasm kernel module (built for SIMD128 and SIMD128 +
// relaxed SIMD, each with a private and a shared (threads) memory; see
// asconfig.json). Kernels take raw byte pointers into the imported memory,
// which the JS side allocates (src/backends/wasm/memory.ts). Every kernel is
// a job: the JS side writes its descriptor (layouts declared in
// src/backends/primitives/, generated into build/gen/) and runs its parts,
// on this thread or spread over the worker threads.
import {
  JOB_ADAM, JOB_ATTENTION, JOB_BINARY, JOB_CONV, JOB_EMBEDDING, JOB_FILL, JOB_GATHER, JOB_MATMUL, JOB_NORM, JOB_POOL, JOB_REDUCE,
  JOB_SCAN, JOB_SGD, JOB_SOFTMAX, JOB_STRIDED, JOB_UNARY, JOB_XENT,
} from '../build/gen/jobs';
import { convPart } from './conv';
import { attentionPart } from './attention';
import { binaryPart, fillPart, unaryPart } from './elementwise';
import { embeddingPart } from './embedding';
import { gatherPart, scanPart } from './gather';
import { matmulPart } from './matmul';
import { normPart } from './norm';
import { adamPart, sgdPart } from './optim';
import { poolPart } from './pool';
import { reducePart } from './reduce';
import { softmaxPart } from './softmax';
import { stridedPart } from './strided';
import { xentPart } from './xent';

export { convPartialBytes, convScratch, convTileRows } from './conv';
export { convAbsMax } from './conv-winograd';
export { attentionScratch } from './attention';
export { matmulScratch, matmulTileRows } from './matmul';
export { reduceScratch } from './reduce';

/** First byte after the module's static data: the JS allocator starts here. */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * Runs part `part` of the job of `kind` (a JOB_* code) described at `desc`,
 * with scratch slot `slot` (one per thread): the one entry every kernel call
 * and every worker thread goes through.
 */
export function runPart(kind: i32, desc: usize, part: i32, slot: i32): void {
  switch (kind) {
    case JOB_MATMUL: matmulPart(desc, part, slot); break;
    case JOB_UNARY: unaryPart(desc, part); break;
    case JOB_BINARY: binaryPart(desc, part); break;
    case JOB_FILL: fillPart(desc, part); break;
    case JOB_REDUCE: reducePart(desc, part, slot); break;
    case JOB_SOFTMAX: softmaxPart(desc, part); break;
    case JOB_STRIDED: stridedPart(desc, part); break;
    case JOB_SGD: sgdPart(desc, part); break;
    case JOB_ADAM: adamPart(desc, part); break;
    case JOB_CONV: convPart(desc, part, slot); break;
    case JOB_POOL: poolPart(desc, part); break;
    case JOB_ATTENTION: attentionPart(desc, part, slot); break;
    case JOB_NORM: normPart(desc, part); break;
    case JOB_EMBEDDING: embeddingPart(desc, part); break;
    case JOB_XENT: xentPart(desc, part); break;
    case JOB_GATHER: gatherPart(desc, part); break;
    case JOB_SCAN: scanPart(desc, part); break;
    default: break;
  }
}
