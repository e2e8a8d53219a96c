// Printing a tensor's values the way PyTorch does (torch/_tensor_str.py):
// one number format for the whole tensor (integers as `1.`, else 4 decimals,
// or scientific `1.0000e+05` when magnitudes span more than 1000× or reach
// 1e8 or go below 1e-4), right-aligned to one width, nested brackets
// indented under `tensor(`, rows wrapped at 80 columns, and past 1000
// elements only the first and last 3 entries of each dimension around `...`.
// Suffixes: the size where the values do not show it, the device, and
// requires_grad.

const THRESHOLD = 1000, EDGE = 3, LINEWIDTH = 80, PRECISION = 4;

/** Row-major values of a summarised tensor: only what will be printed (for the number format). */
function shown(values: ArrayLike<number>, shape: readonly number[], summarize: boolean): number[] {
  const out: number[] = [];
  const walk = (d: number, off: number) => {
    if (d === shape.length) { out.push(values[off]); return; }
    const n = shape[d], step = shape.slice(d + 1).reduce((a, b) => a * b, 1);
    const idx = summarize && n > 2 * EDGE ? [0, 1, 2, n - 3, n - 2, n - 1] : Array.from({ length: n }, (_, i) => i);
    for (const i of idx) walk(d + 1, off + i * step);
  };
  walk(0, 0);
  return out;
}

function special(v: number): string | null {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return null;
}

/** Python's '{:.4e}': two exponent digits at least. */
const sci = (v: number) => v.toExponential(PRECISION).replace(/e([+-])(\d)$/, 'e$10$2');

/** The formatter for a set of values: one rule and one width for all. */
function formatter(vals: number[]): (v: number) => string {
  const finite = vals.filter(Number.isFinite);
  const nonzero = finite.map(Math.abs).filter((v) => v !== 0);
  const intMode = finite.every((v) => Number.isInteger(v));
  const max = nonzero.length ? Math.max(...nonzero) : 0, min = nonzero.length ? Math.min(...nonzero) : 0;
  let fmt: (v: number) => string;
  if (intMode) {
    const sciMode = nonzero.length > 0 && (max / min > 1000 || max > 1e8);
    fmt = sciMode ? sci : (v) => `${Object.is(v, -0) ? '-0' : v.toFixed(0)}.`;
  } else {
    const sciMode = nonzero.length > 0 && (max / min > 1000 || max > 1e8 || min < 1e-4);
    fmt = sciMode ? sci : (v) => (Object.is(v, -0) ? '-0.0000' : v.toFixed(PRECISION));
  }
  const str = (v: number) => special(v) ?? fmt(v);
  const width = vals.reduce((w, v) => Math.max(w, str(v).length), 0);
  return (v) => str(v).padStart(width);
}

/** `tensor([...], suffixes)` for row-major `values` of `shape`. */
export function formatTensor(values: ArrayLike<number>, shape: readonly number[], suffixes: string[]): string {
  const size = shape.reduce((a, b) => a * b, 1);
  const summarize = size > THRESHOLD;
  const prefix = 'tensor(';
  const extra: string[] = [];
  if (size === 0 && !(shape.length === 1)) extra.push(`size=(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`);
  if (summarize) extra.push(`size=(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`);
  const tail = [...extra, ...suffixes].map((s) => `, ${s}`).join('');
  if (size === 0) return `${prefix}[]${tail})`;
  const f = formatter(shown(values, shape, summarize));
  const width = f(values[0]).length;
  const str = (d: number, off: number, indent: number): string => {
    if (d === shape.length) return f(values[off]);
    const n = shape[d], step = shape.slice(d + 1).reduce((a, b) => a * b, 1);
    const cut = summarize && n > 2 * EDGE;
    const idx = cut ? [0, 1, 2, -1, n - 3, n - 2, n - 1] : Array.from({ length: n }, (_, i) => i);
    if (d === shape.length - 1) {
      const items = idx.map((i) => (i < 0 ? ' ...' : f(values[off + i])));
      const perLine = Math.max(1, Math.floor((LINEWIDTH - indent) / (width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
      return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
    }
    const sep = `,${'\n'.repeat(shape.length - d - 1)}${' '.repeat(indent + 1)}`;
    return `[${idx.map((i) => (i < 0 ? '...' : str(d + 1, off + i * step, indent + 1))).join(sep)}]`;
  };
  return `${prefix}${str(0, 0, prefix.length)}${tail})`;
}
