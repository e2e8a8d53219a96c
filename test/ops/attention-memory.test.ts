// Fused attention keeps no score matrix: forward and backward at seq 4096
// (8 heads, headDim 64) on WASM peak at the outputs, the saved row statistics
// and the gradients, read from the public memory() — far below the S×S scores
// per head that attention composed from matmul and softmax keeps (tfjs, jax-js).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/creation.js';
import { memory, resetPeakMemoryStats } from '../../src/memory-stats.js';
import { attention } from '../../src/ops/attention.js';
import { devices } from '../helpers/backends.js';
import { testRng } from '../helpers/random.js';

const r = testRng('ops-attention-memory');
const MiB = 2 ** 20;

test('memory: forward and backward at seq 4096, 8 heads, headDim 64 stay below one score matrix per head', async () => {
  // WASM at the full size; WebGPU (SwiftShader runs shaders on these CPU cores) at seq 1024, 2 heads.
  for (const device of devices) {
    const [H, S, D] = device === 'wasm' ? [8, 4096, 64] : [2, 1024, 64];
    const n = H * S * D;
    const mk = (grad: boolean) => tensor(r.array(n), [1, H, S, D], { device, requiresGrad: grad });
    const q = mk(true), k = mk(true), v = mk(true), g = mk(false);
    const before = memory(device);
    resetPeakMemoryStats(device);
    const y = attention(q, k, v, { causal: true });
    y.backward(g);
    const dq = await q.grad!.data();
    const after = memory(device);
    assert.ok(dq.every((x) => Number.isFinite(x)), `${device}: dq finite`);
    const peak = after.peakBytes - before.numBytes;
    // What must exist at once: the output and lse (saved for the backward) and dq, dk, dv.
    const needed = (4 * n + H * S) * 4;
    const scoresPerHead = H * S * S * 4; // what an unfused attention keeps: one S×S matrix per head
    assert.ok(peak >= needed, `${device}: peak ${peak} below the ${needed} bytes the outputs take: memory() is not counting them`);
    assert.ok(peak < scoresPerHead / H, `${device}: peak ${peak} bytes is not below even one head's S×S scores (${scoresPerHead / H})`);
    assert.ok(peak <= needed + MiB, `${device}: peak ${peak} bytes; the outputs and gradients need ${needed} (1 MiB slack allowed)`);
    // Kernel scratch lives outside tensors: on WASM it is carved from the WebAssembly memory, which
    // grows by doubling, so its size stays within twice what the tensors and a few MiB of scratch need
    // (one S×S matrix per head, 512 MiB here, would not fit).
    const bound = Math.max(before.reservedBytes, 2 * (before.numBytes + needed + 8 * MiB));
    if (device === 'wasm') assert.ok(after.reservedBytes <= bound, `wasm: the WebAssembly memory grew to ${after.reservedBytes} bytes (bound ${bound})`);
    console.log(`  attention memory · ${device}: seq ${S}, ${H} heads, headDim ${D}: peak ${(peak / MiB).toFixed(2)} MiB above the inputs `
      + `(output + lse + gradients ${(needed / MiB).toFixed(2)} MiB; one S×S score matrix per head ${(scoresPerHead / MiB).toFixed(0)} MiB; `
      + `reserved ${(after.reservedBytes / MiB).toFixed(0)} MiB)`);
    for (const t of [y, q, k, v, g, q.grad, k.grad, v.grad]) t!.dispose();
  }
});

test.run();
