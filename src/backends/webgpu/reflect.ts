// Which storage bindings a WGSL entry point writes, read from its source: the
// `read_write` storage variables that the entry point or any function it calls
// names. The runtime stamps those buffers as written by each dispatch (see
// alloc-check.ts); a name in an unrelated place only makes it more cautious.

const RW = /@binding\((\d+)\)\s*var<storage,\s*read_write>\s*(\w+)/g;

/** Indices into a dispatch's buffer list (binding 1 is index 0) that `entry` of `source` may write. */
export function writtenBuffers(source: string, entry: string): number[] {
  const code = source.replace(/\/\/.*$/gm, '');
  const rw = new Map<string, number>();
  for (const m of code.matchAll(RW)) rw.set(m[2], Number(m[1]));
  const bodies = new Map<string, string>();
  for (const m of code.matchAll(/\bfn\s+(\w+)\s*\(/g)) {
    const open = code.indexOf('{', m.index);
    let depth = 0, end = open;
    for (; end < code.length; end++) {
      if (code[end] === '{') depth++;
      else if (code[end] === '}' && --depth === 0) break;
    }
    bodies.set(m[1], code.slice(open, end + 1));
  }
  const written = new Set<number>();
  const seen = new Set([entry]);
  const todo = [entry];
  while (todo.length) {
    const body = bodies.get(todo.pop()!) ?? '';
    for (const [name, binding] of rw) if (new RegExp(`\\b${name}\\b`).test(body)) written.add(binding - 1);
    for (const m of body.matchAll(/\b(\w+)\s*\(/g)) {
      if (bodies.has(m[1]) && !seen.has(m[1])) {
        seen.add(m[1]);
        todo.push(m[1]);
      }
    }
  }
  return [...written].sort((a, b) => a - b);
}
