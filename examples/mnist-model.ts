// The demo's CNN, shared by examples/mnist.ts, its test and the bench:
// conv 5×5×32 (ReLU) → max-pool 2 → conv 5×5×64 (ReLU) → max-pool 2 →
// flatten → dense 128 (ReLU) → dropout → dense 10 (logits). NHWC input [B, 28, 28, 1].
import { nn, type DeviceName } from 'lepton';

export const CNN_DESCRIPTION = 'conv 5×5×32 relu → maxpool 2 → conv 5×5×64 relu → maxpool 2 → flatten → dense 128 relu → dropout 0.3 → dense 10';

/** `widths` [conv1, conv2, dense] default to [32, 64, 128]; narrower ones make a quicker test model. */
export function mnistCnn(opts: { seed?: number; device?: DeviceName; dropout?: number; widths?: [number, number, number] } = {}): nn.Sequential {
  const { seed = 1, device, dropout = 0.3, widths: [c1, c2, hidden] = [32, 64, 128] } = opts;
  return new nn.Sequential(
    new nn.Conv2d(1, c1, 5, { activation: 'relu', seed, device }), //           [B, 24, 24, 32]
    new nn.MaxPool2d(2), //                                                      [B, 12, 12, 32]
    new nn.Conv2d(c1, c2, 5, { activation: 'relu', seed: seed + 1, device }), // [B, 8, 8, 64]
    new nn.MaxPool2d(2), //                                                      [B, 4, 4, 64]
    new nn.Flatten(), //                                                         [B, 1024]
    new nn.Linear(16 * c2, hidden, { activation: 'relu', seed: seed + 2, device }),
    new nn.Dropout(dropout, { seed: seed + 3 }),
    new nn.Linear(hidden, 10, { seed: seed + 4, device }),
  );
}

/** Multiply–adds ×2 of one forward per image (GFLOP/s figures): the two convolutions and the dense layer. */
export const CNN_FLOPS_PER_IMAGE = 2 * (24 * 24 * 32 * 25 + 8 * 8 * 64 * 32 * 25 + 1024 * 128 + 128 * 10);
