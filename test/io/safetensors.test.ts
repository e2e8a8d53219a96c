// The safetensors format against files written by hand from the spec (not by
// lepton's writer): every dtype lepton reads, the writer's bytes field by
// field, every way a file can be broken, and models saved and loaded on every
// backend in PyTorch's layout, from every kind of source, all or nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as lp from '../../src/index.js';
import { devices } from '../helpers/backends.js';
import { testRng } from '../helpers/random.js';

const { nn, LeptonError } = lp;
const rng = testRng('safetensors');
const OUT = 'test-output/io';
mkdirSync(OUT, { recursive: true });

/** A file built from the spec: u64 LE header length, the JSON header (padded to `pad`), the data. */
function craft(header: unknown, data: Uint8Array = new Uint8Array(0), opts: { pad?: number; raw?: Uint8Array } = {}): Uint8Array {
  let json = opts.raw ?? new TextEncoder().encode(JSON.stringify(header));
  if (opts.pad) { const n = Math.ceil(json.length / opts.pad) * opts.pad; const p = new Uint8Array(n).fill(0x20); p.set(json); json = p; }
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const cat = (...parts: Uint8Array[]) => { const o = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let k = 0; for (const p of parts) { o.set(p, k); k += p.length; } return o; };

async function rejects(p: Promise<unknown>, re: RegExp) {
  try { await p; } catch (e) {
    assert.instance(e, LeptonError, String(e));
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`no error, expected ${re}`);
}

test('reads every dtype from a hand-built file, converted to float32', async () => {
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00, 0xfc00, 0x3555, 0x8000]);
  const want16 = [1, -2, 2 ** -24, 65504, Infinity, -Infinity, 0.333251953125, -0];
  const bf16 = new Uint16Array([0x3f80, 0xc0a0, 0x4049, 0x0000]);
  const f64 = new Float64Array([1 / 3, -1e300, 2.5]);
  const i64 = new BigInt64Array([-3n, 0n, 16777216n]);
  const f32 = Float32Array.from([0.1, -7, 3e-39]);
  const small = { I32: new Int32Array([-5, 7]), I16: new Int16Array([-300, 2]), I8: new Int8Array([-128, 127]), U8: new Uint8Array([0, 255]), BOOL: new Uint8Array([1, 0]), U16: new Uint16Array([65535, 1]), U32: new Uint32Array([4294967295, 1]) };
  const parts: [string, string, number[], Uint8Array][] = [
    ['d', 'F64', [3], bytesOf(f64)], ['l', 'I64', [3], bytesOf(i64)], ['f', 'F32', [3, 1], bytesOf(f32)],
    ['h', 'F16', [2, 4], bytesOf(f16)], ['b', 'BF16', [4], bytesOf(bf16)],
    ...Object.entries(small).map(([dt, a]): [string, string, number[], Uint8Array] => [dt.toLowerCase(), dt, [2], bytesOf(a)]),
  ];
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', note: 'hand-made' } };
  let off = 0;
  for (const [name, dtype, shape, b] of parts) { header[name] = { dtype, shape, data_offsets: [off, off + b.length] }; off += b.length; }
  // Unpadded header: the data starts at an odd offset, which the reader must handle.
  const file = await lp.readSafetensors(craft(header, cat(...parts.map((p) => p[3]))));
  assert.equal(file.metadata, { format: 'pt', note: 'hand-made' });
  assert.equal(Object.keys(file.tensors), parts.map((p) => p[0]));
  const vals = (k: string) => [...file.tensors[k].data];
  assert.equal(vals('h'), want16);
  assert.equal(file.tensors.h.shape, [2, 4]);
  assert.is(file.tensors.h.dtype, 'F16');
  assert.equal(vals('b'), [1, -5, 3.140625, 0]);
  assert.equal(vals('d'), [Math.fround(1 / 3), -Infinity, 2.5]);
  assert.equal(vals('l'), [-3, 0, 16777216]);
  assert.equal(vals('f'), [...f32]);
  assert.equal(vals('i32'), [-5, 7]);
  assert.equal(vals('i16'), [-300, 2]);
  assert.equal(vals('i8'), [-128, 127]);
  assert.equal(vals('u8'), [0, 255]);
  assert.equal(vals('bool'), [1, 0]);
  assert.equal(vals('u16'), [65535, 1]);
  assert.equal(vals('u32'), [4294967296, 1]);
});

test('the writer follows the spec: LE length, JSON header padded to 8, contiguous offsets, LE data, metadata', async () => {
  const a = rng.array(6), c = [1, -2, 3];
  const bytes = await lp.writeSafetensors({ a: { shape: [2, 3], data: a }, c: { shape: [3], data: c, dtype: 'I64' }, e: { shape: [0, 4], data: [] } }, { metadata: { who: 'test' } });
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  assert.is((8 + n) % 8, 0, 'the data starts 8-byte aligned');
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.ok(text.startsWith('{') && /^[^]*\} *$/.test(text), 'JSON padded with spaces');
  const h = JSON.parse(text);
  assert.equal(h.__metadata__, { who: 'test' });
  assert.equal(h.a.shape, [2, 3]);
  assert.is(h.a.dtype, 'F32');
  assert.is(h.c.dtype, 'I64');
  // 8-byte dtypes first: c at 0, then a; the empty tensor takes no bytes.
  assert.equal(h.c.data_offsets, [0, 24]);
  assert.equal(h.a.data_offsets, [24, 48]);
  assert.equal(h.e.data_offsets, [48, 48]);
  assert.is(bytes.length, 8 + n + 48);
  const data = bytes.slice(8 + n);
  assert.equal([...new BigInt64Array(data.buffer, 0, 3)], [1n, -2n, 3n]);
  assert.equal([...new Float32Array(data.buffer, 24, 6)], [...a]);
  // And a tensor from a device is written as its values.
  for (const device of devices) {
    const t = lp.tensor(a, [3, 2], { device });
    const f = await lp.readSafetensors(await lp.writeSafetensors({ t }));
    assert.equal(f.tensors.t.shape, [3, 2]);
    assert.equal([...f.tensors.t.data], [...a]);
    assert.is(f.metadata, null);
    t.dispose();
  }
});

test('broken files: truncated, bad header, bad entries, overlaps, holes, trailing bytes', async () => {
  const f4 = bytesOf(Float32Array.from([1, 2, 3, 4]));
  const good = { x: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } };
  const read = (b: Uint8Array) => lp.readSafetensors(b);
  await rejects(read(new Uint8Array(5)), /readSafetensors: truncated file: 5 bytes; a safetensors file starts with an 8-byte header length/);
  await rejects(read(craft(good, f4).subarray(0, 20)), /truncated file: the header should be \d+ bytes but only 12 follow/);
  await rejects(read(craft(good, f4.subarray(0, 12))), /truncated file: tensor 'x' ends at data byte 16, but the data section has 12 bytes/);
  const huge = new Uint8Array(16); new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
  await rejects(read(huge), /bad header: its length field says 1099511627776 bytes \(the limit is 100000000\)/);
  await rejects(read(craft(null, f4, { raw: new TextEncoder().encode(' {"x":1}') })), /bad header: it must begin with '\{'/);
  await rejects(read(craft(null, f4, { raw: new TextEncoder().encode('{"x": ') })), /bad header: not valid JSON/);
  await rejects(read(craft(null, f4, { raw: new Uint8Array([0x7b, 0xff, 0x7d]) })), /bad header: it is not valid UTF-8/);
  await rejects(read(craft([1, 2])), /bad header: it must begin with '\{'/);
  await rejects(read(craft({ x: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, f4.subarray(0, 4))), /tensor 'x': dtype "F8_E4M3" is not supported; lepton reads F64, F32, F16, BF16/);
  await rejects(read(craft({ x: { dtype: 'F32', shape: [2, -2], data_offsets: [0, 16] } }, f4)), /bad header: tensor 'x' has shape \[2,-2\]; needs non-negative integers/);
  await rejects(read(craft({ x: { dtype: 'F32', shape: [4], data_offsets: [8, 0] } }, f4)), /tensor 'x' has data_offsets \[8,0\]; needs \[begin, end\]/);
  await rejects(read(craft({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, f4)), /tensor 'x' \(F32 \[3\], 12 bytes\) has data_offsets \[0, 16\], which hold 16 bytes/);
  await rejects(read(craft({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [3], data_offsets: [4, 16] } }, f4)),
    /bad header: tensor 'y' \[4, 16\) overlaps tensor 'x' \(which ends at 8\)/);
  await rejects(read(craft({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, y: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, f4)),
    /bytes \[4, 8\) of the data are not part of any tensor \(a hole before 'y'\)/);
  await rejects(read(craft({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } }, f4)), /the data section has 16 bytes but the tensors cover only 12 \(4 trailing bytes\)/);
  await rejects(read(craft({ __metadata__: { a: 1 }, ...good }, f4)), /bad header: '__metadata__'\['a'\] must be a string, got number/);
  await rejects(read(craft({ x: 'F32' }, f4)), /bad header: the entry of tensor 'x' must be an object/);
  // A header padded with trailing spaces is fine; so are zero-size tensors.
  const ok = await read(craft({ ...good, e: { dtype: 'F32', shape: [0], data_offsets: [16, 16] } }, f4, { pad: 8 }));
  assert.equal([...ok.tensors.x.data], [1, 2, 3, 4]);
  assert.equal(ok.tensors.e.shape, [0]);
  await rejects(lp.readSafetensors('test-output/io/no-such-file.safetensors'), /readSafetensors: cannot read 'test-output\/io\/no-such-file.safetensors': ENOENT/);
  await rejects(lp.readSafetensors(42 as never), /argument 'source' must be a path or URL, an ArrayBuffer or typed array, or a Blob \/ File \/ Response, got number/);
  await rejects(lp.writeSafetensors({ a: { shape: [2], data: [1] } }), /writeSafetensors: tensor 'a': shape \[2\] needs 2 values, got 1/);
  await rejects(lp.writeSafetensors({ a: { shape: [1], data: [1.5], dtype: 'I64' } }), /tensor 'a': I64 needs integers, got 1.5 at index 0/);
  await rejects(lp.writeSafetensors({ __metadata__: { shape: [1], data: [1] } }), /has the name "__metadata__"/);
});

/** An MLP's parameters, read from its device. */
const params = async (m: lp.nn.Module) => Promise.all(m.parameters().map(async (p) => [...await p.data()]));
const transpose = (v: ArrayLike<number>, rows: number, cols: number) => Array.from({ length: v.length }, (_, k) => v[(k % rows) * cols + Math.floor(k / rows)]);

test("saveSafetensors: PyTorch's names and layouts ([out, in] weights), F32, format 'pt'; loads back on every backend", async () => {
  for (const device of devices) {
    const m = new nn.MLP([3, 5, 2], { device, seed: rng.int(1, 1e6) });
    const bytes = await lp.saveSafetensors(m, { metadata: { epoch: '7' } });
    const f = await lp.readSafetensors(bytes);
    assert.equal(f.metadata, { format: 'pt', epoch: '7' });
    assert.equal(Object.keys(f.tensors), ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']);
    assert.equal(f.tensors['layers.0.weight'].shape, [5, 3]);
    assert.equal(f.tensors['layers.1.weight'].shape, [2, 5]);
    assert.ok(Object.values(f.tensors).every((t) => t.dtype === 'F32'));
    const [w0, b0] = await params(m);
    // File row o holds output o's weights: file[o][i] = lepton[i][o].
    assert.equal([...f.tensors['layers.0.weight'].data], transpose(w0, 3, 5));
    assert.equal([...f.tensors['layers.0.bias'].data], b0);
    const fresh = new nn.MLP([3, 5, 2], { device, seed: 1 });
    assert.equal(await lp.loadSafetensors(fresh, bytes), { missingKeys: [], unexpectedKeys: [] });
    assert.equal(await params(fresh), await params(m));
    m.dispose(); fresh.dispose();
  }
});

test('loadSafetensors from a Node path, a file: URL, an ArrayBuffer, an unaligned view, a Blob and a Response', async () => {
  const m = new nn.MLP([4, 3, 2], { seed: rng.int(1, 1e6) });
  const path = `${OUT}/mlp.safetensors`;
  const bytes = await lp.saveSafetensors(m, path);
  const want = await params(m);
  const odd = new Uint8Array(bytes.length + 3); odd.set(bytes, 3);
  const sources: [string, () => lp.BinarySource][] = [
    ['path', () => path], ['file URL', () => pathToFileURL(path)], ['file URL string', () => pathToFileURL(path).href],
    ['ArrayBuffer', () => bytes.slice().buffer], ['Uint8Array at offset 3', () => odd.subarray(3)],
    ['Blob', () => new Blob([bytes.slice()])], ['Response', () => new Response(bytes.slice())],
  ];
  for (const [what, src] of sources) {
    const fresh = new nn.MLP([4, 3, 2], { seed: 99 });
    await lp.loadSafetensors(fresh, src());
    assert.equal(await params(fresh), want, what);
    fresh.dispose();
  }
  m.dispose();
});

test('loadSafetensors errors name the key and both shapes; nothing is half-loaded', async () => {
  for (const device of devices) {
    const m = new nn.MLP([3, 4, 2], { device, seed: 5 });
    const before = await params(m);
    const sd = (await lp.readSafetensors(await lp.saveSafetensors(m))).tensors;
    const entries = (over: Record<string, unknown>) => Object.fromEntries(Object.entries({ ...Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, { shape: t.shape, data: t.data }])), ...over }).filter(([, v]) => v));
    const file = async (over: Record<string, unknown>) => lp.writeSafetensors(entries(over) as Record<string, lp.SafetensorsEntry>);
    // The last layer is wrong: the first one must not have been written either.
    await rejects(lp.loadSafetensors(m, await file({ 'layers.1.weight': { shape: [2, 5], data: new Float32Array(10) } })),
      /loadSafetensors: key 'layers.1.weight': shape mismatch: the file has \[2, 5\] \(F32\), the model needs \[2, 4\] \(PyTorch's layout \[out, in\]; lepton keeps it as \[4, 2\]\)/);
    // lepton's own layout in the file is a mismatch too (same element count, wrong shape).
    await rejects(lp.loadSafetensors(m, await file({ 'layers.0.weight': { shape: [3, 4], data: new Float32Array(12) } })),
      /key 'layers.0.weight': shape mismatch: the file has \[3, 4\] \(F32\), the model needs \[4, 3\]/);
    await rejects(lp.loadSafetensors(m, await file({ 'layers.1.bias': { shape: [2], data: [1, 2], dtype: 'I64' } })),
      /key 'layers.1.bias': dtype mismatch: the file has I64 \[2\], the model needs a float tensor \(F32, F64, F16 or BF16\) \[2\]/);
    await rejects(lp.loadSafetensors(m, await file({ 'layers.1.bias': null })), /loadSafetensors: missing key\(s\) 'layers.1.bias'/);
    await rejects(lp.loadSafetensors(m, await file({ 'layers.2.weight': { shape: [1], data: [0] } })), /loadSafetensors: unexpected key\(s\) 'layers.2.weight'/);
    await rejects(lp.loadSafetensors(m, (await file({})).subarray(0, 100)), /loadSafetensors: truncated file/);
    await rejects(lp.loadSafetensors({} as never, new Uint8Array(8)), /loadSafetensors: argument 'model' must be an nn.Module/);
    assert.equal(await params(m), before, `${device}: the model is unchanged after every failed load`);
    // Non-strict: the known keys load; the rest is reported.
    const res = await lp.loadSafetensors(m, await file({ 'layers.1.bias': null, extra: { shape: [1], data: [0] }, 'layers.0.bias': { shape: [4], data: [1, 2, 3, 4] } }), { strict: false });
    assert.equal(res, { missingKeys: ['layers.1.bias'], unexpectedKeys: ['extra'] });
    assert.equal((await params(m))[1], [1, 2, 3, 4]);
    m.dispose();
  }
});

test('F16, BF16 and F64 weights load converted to float32', async () => {
  const m = new nn.Linear(2, 2, { seed: 1 });
  // PyTorch layout [out, in]: W_file = [[1, -2], [0.5, 3]] → lepton W = [[1, 0.5], [-2, 3]].
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x4200]);
  const bf16 = new Uint16Array([0x3f80, 0x4000]);
  const header = { weight: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 8] }, bias: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] } };
  await lp.loadSafetensors(m, craft(header, cat(bytesOf(f16), bytesOf(bf16))));
  assert.equal([...await m.weight.data()], [1, 0.5, -2, 3]);
  assert.equal([...await m.bias!.data()], [1, 2]);
  const f64 = new Float64Array([0.1, 0.2, 0.3, 0.4, 5, 6]);
  await lp.loadSafetensors(m, craft({ weight: { dtype: 'F64', shape: [2, 2], data_offsets: [0, 32] }, bias: { dtype: 'F64', shape: [2], data_offsets: [32, 48] } }, bytesOf(f64)));
  assert.equal([...await m.weight.data()], [0.1, 0.3, 0.2, 0.4].map(Math.fround));
  m.dispose();
});

test.run();
