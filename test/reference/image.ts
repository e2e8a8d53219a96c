// Float64 references for the playground's drawing preprocessing: area-average
// resampling written as a direct 2-D overlap integral (each target pixel the
// mean of the source over its footprint), not as the separable passes the
// page uses.

/** The w×h region at (x0, y0) of `src` (row stride `stride`) resampled to tw×th by exact area averaging. */
export function areaResample(src: ArrayLike<number>, stride: number, x0: number, y0: number, w: number, h: number, tw: number, th: number): Float64Array {
  const out = new Float64Array(tw * th), sx = w / tw, sy = h / th;
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      // The target pixel's footprint in source coordinates: [ax, bx) × [ay, by).
      const ax = tx * sx, bx = ax + sx, ay = ty * sy, by = ay + sy;
      let acc = 0;
      for (let y = 0; y < h; y++) {
        const oy = Math.max(0, Math.min(by, y + 1) - Math.max(ay, y));
        if (oy === 0) continue;
        for (let x = 0; x < w; x++) {
          const ox = Math.max(0, Math.min(bx, x + 1) - Math.max(ax, x));
          acc += src[(y0 + y) * stride + x0 + x] * ox * oy;
        }
      }
      out[ty * tw + tx] = acc / (sx * sy);
    }
  }
  return out;
}
