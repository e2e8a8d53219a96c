// @ts-nocheck: AssemblyScript (asc checks it); tsconfig includes bench/ for the TypeScript files.
// The arithmetic ceiling of this engine + CPU for f32x4 code: independent
// multiply-add chains, no memory traffic. Built twice by tools/build.mjs
// (SIMD128: mul then add; relaxed SIMD: fused f32x4.relaxed_madd);
// bench/ceiling.ts times them. 12 chains: with their two operands they fill
// V8's 15 xmm registers, and they cover the latency of two FMA pipes (madd,
// 4 cycles) and, just, of a 3 + 3-cycle mul -> add on two mul + two add pipes.
// Chains converge to a / (1 - m): no overflow, no denormals.

/** 12 chains of c = c * m + a (f32x4.mul, then f32x4.add); returns their sum (keeps them live). */
export function mulAdd(iters: i32, m: f32, a: f32, c0: f32): f32 {
  const vm = f32x4.splat(m), va = f32x4.splat(a), step = f32x4.splat(0.001);
  // Different starting values, so no two chains are the same computation.
  let x0 = f32x4.splat(c0), x1 = f32x4.add(x0, step), x2 = f32x4.add(x1, step), x3 = f32x4.add(x2, step);
  let x4 = f32x4.add(x3, step), x5 = f32x4.add(x4, step), x6 = f32x4.add(x5, step), x7 = f32x4.add(x6, step);
  let x8 = f32x4.add(x7, step), x9 = f32x4.add(x8, step), x10 = f32x4.add(x9, step), x11 = f32x4.add(x10, step);
  for (let i = 0; i < iters; i++) {
    x0 = f32x4.add(f32x4.mul(x0, vm), va); x1 = f32x4.add(f32x4.mul(x1, vm), va);
    x2 = f32x4.add(f32x4.mul(x2, vm), va); x3 = f32x4.add(f32x4.mul(x3, vm), va);
    x4 = f32x4.add(f32x4.mul(x4, vm), va); x5 = f32x4.add(f32x4.mul(x5, vm), va);
    x6 = f32x4.add(f32x4.mul(x6, vm), va); x7 = f32x4.add(f32x4.mul(x7, vm), va);
    x8 = f32x4.add(f32x4.mul(x8, vm), va); x9 = f32x4.add(f32x4.mul(x9, vm), va);
    x10 = f32x4.add(f32x4.mul(x10, vm), va); x11 = f32x4.add(f32x4.mul(x11, vm), va);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)), f32x4.add(f32x4.add(x4, x5), f32x4.add(x6, x7)));
  return lanes(f32x4.add(s, f32x4.add(f32x4.add(x8, x9), f32x4.add(x10, x11))));
}

/** The same 12 chains as fused c = madd(c, m, a); 0 in the build without relaxed SIMD. */
export function madd(iters: i32, m: f32, a: f32, c0: f32): f32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 0;
  const vm = f32x4.splat(m), va = f32x4.splat(a), step = f32x4.splat(0.001);
  let x0 = f32x4.splat(c0), x1 = f32x4.add(x0, step), x2 = f32x4.add(x1, step), x3 = f32x4.add(x2, step);
  let x4 = f32x4.add(x3, step), x5 = f32x4.add(x4, step), x6 = f32x4.add(x5, step), x7 = f32x4.add(x6, step);
  let x8 = f32x4.add(x7, step), x9 = f32x4.add(x8, step), x10 = f32x4.add(x9, step), x11 = f32x4.add(x10, step);
  for (let i = 0; i < iters; i++) {
    x0 = f32x4.relaxed_madd(x0, vm, va); x1 = f32x4.relaxed_madd(x1, vm, va);
    x2 = f32x4.relaxed_madd(x2, vm, va); x3 = f32x4.relaxed_madd(x3, vm, va);
    x4 = f32x4.relaxed_madd(x4, vm, va); x5 = f32x4.relaxed_madd(x5, vm, va);
    x6 = f32x4.relaxed_madd(x6, vm, va); x7 = f32x4.relaxed_madd(x7, vm, va);
    x8 = f32x4.relaxed_madd(x8, vm, va); x9 = f32x4.relaxed_madd(x9, vm, va);
    x10 = f32x4.relaxed_madd(x10, vm, va); x11 = f32x4.relaxed_madd(x11, vm, va);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)), f32x4.add(f32x4.add(x4, x5), f32x4.add(x6, x7)));
  return lanes(f32x4.add(s, f32x4.add(f32x4.add(x8, x9), f32x4.add(x10, x11))));
}

/** Multiply-adds per iteration of either loop, times 4 lanes, times 2 FLOP. */
export const FLOP_PER_ITER: i32 = 12 * 4 * 2;

// @ts-ignore: decorator
@inline function lanes(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}
