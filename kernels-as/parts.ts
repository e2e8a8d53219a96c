// Splitting a job into parts for the worker threads (src/backends/wasm/threads.ts):
// part p of `parts` covers [partStart(n, parts, p), partStart(n, parts, p + 1)).

/**
 * Start of part `part` of `n` units split into `parts` near-equal ranges,
 * rounded down to a multiple of `align` (a cache line of floats, so that two
 * threads never write one line); part == parts gives n.
 */
export function partStart(n: i32, parts: i32, part: i32, align: i32): i32 {
  if (part >= parts) return n;
  const at = <i32>((<i64>n * part) / parts);
  return at - at % align;
}
