// Dispatch geometry.

/** Splits a workgroup count over x and y so that neither passes `max`. */
export function grid(groups: number, max: number): [number, number] {
  if (groups <= max) return [groups, 1];
  const y = Math.ceil(groups / max);
  if (y > max) throw new Error(`lepton webgpu: ${groups} workgroups exceed maxComputeWorkgroupsPerDimension² (${max}²)`);
  return [Math.ceil(groups / y), y];
}
