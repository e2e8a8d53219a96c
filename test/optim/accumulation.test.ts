// Gradient accumulation (README "Gradient accumulation"): backward over
// micro-batches, each loss divided by their number, then one step, equals the
// step on the whole batch (to float32 rounding: the sums run in another
// order), on every backend, for SGD with momentum and Adam.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import { devices } from '../helpers/backends.js';
import { relErr } from '../helpers/error.js';

const { nn, optim, data, scope } = lp;

test('accumulating 4 micro-batches of 6 equals one batch of 24', async () => {
  const set = data.spiral(8, { seed: 4 });                    // 24 points
  for (const device of devices) {
    for (const kind of ['sgd', 'adam'] as const) {
      const run = async (micro: number) => {
        const model = new nn.MLP([2, 32, 3], { seed: 5, device });
        const opt = kind === 'sgd' ? new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }) : new optim.Adam(model.parameters(), { lr: 0.01 });
        const loader = new data.DataLoader(new data.TensorDataset({ data: set.x, shape: [set.n, 2] }, Int32Array.from(set.y)), { batchSize: set.n / micro, device });
        for (let step = 0; step < 3; step++) {
          opt.zeroGrad();
          for (const [xb, yb] of loader) scope(() => nn.crossEntropy(model.forward(xb), yb).div(micro).backward());
          opt.step();
        }
        const w = await Promise.all(model.parameters().map((p) => p.data()));
        opt.dispose(); lp.dispose(model.parameters(), model.parameters().map((p) => p.grad));
        return w;
      };
      const whole = await run(1), accumulated = await run(4);
      whole.forEach((w, i) => {
        const err = relErr(accumulated[i], w);
        assert.ok(err < 1e-5, `${device} ${kind} parameter ${i}: rel err ${err}`);
      });
    }
  }
});

test.run();
