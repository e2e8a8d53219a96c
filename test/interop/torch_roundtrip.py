"""PyTorch's side of the lepton <-> PyTorch round trip (test/interop/torch.test.ts).

    /usr/bin/python3 test/interop/torch_roundtrip.py CASE OUT WEIGHTS [CASE OUT WEIGHTS ...]

Each CASE file (written by lepton) holds the model spec in its metadata
('spec': JSON), lepton's weights under 'model.<key>' (PyTorch's names and
layouts), an input 'x' and class labels 'labels'. For each case this script
  A. builds the same model in PyTorch, loads lepton's weights (strict), and runs
     forward + cross-entropy + backward on x: 'a.out', 'a.grad.x', 'a.grad.<key>';
  B. builds the model with PyTorch's own initialisation (seeded), writes its
     state_dict() to WEIGHTS (a plain safetensors file of PyTorch's names and
     layouts) and the same results 'b.out', 'b.grad.x', 'b.grad.<key>' to OUT,
     for lepton to load and reproduce.
torch 1.13 has no safetensors module: both directions read and write the format
with numpy (8-byte little-endian header length, JSON header, raw data).
A new architecture (the CNN) is one more builder in BUILDERS.
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {'F32': np.float32, 'F64': np.float64, 'F16': np.float16, 'I64': np.int64, 'I32': np.int32}


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {})
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        b, end = e['data_offsets']
        out[name] = np.frombuffer(data[b:end], dtype=np.dtype(DTYPES[e['dtype']]).newbyteorder('<')).reshape(e['shape'])
    return out, meta


def write_safetensors(path, tensors, meta):
    header, blobs, off = {'__metadata__': meta}, [], 0
    for name, a in tensors.items():
        a = np.array(a, dtype='<f4', order='C')  # not ascontiguousarray: it makes a 0-d scalar (num_batches_tracked) 1-d
        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    js = json.dumps(header).encode()
    js += b' ' * (-len(js) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(js)) + js + b''.join(blobs))


ACT = {
    'none': lambda x: x,
    'relu': F.relu,
    'tanh': torch.tanh,
    'sigmoid': torch.sigmoid,
    'gelu': lambda x: F.gelu(x, approximate='tanh'),  # lepton's GELU is the tanh form
}


class MLP(torch.nn.Module):
    """lepton's nn.MLP: Linear layers named layers.<i>, activation between, outputActivation last."""

    def __init__(self, sizes, activation='relu', outputActivation='none'):
        super().__init__()
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.act, self.out_act = ACT[activation], ACT[outputActivation]

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            x = self.act(x) if i < len(self.layers) - 1 else self.out_act(x)
        return x


class CNN(torch.nn.Module):
    """lepton's nn.Sequential of image layers, taking lepton's NHWC input.

    Children are named '0', '1', ... as in lepton (and torch.nn.Sequential); a
    conv's fused activation is applied after it without a module of its own,
    so the indices match. PyTorch's layers are NCHW: the input is permuted to
    NCHW at the first image layer and back to NHWC before a flatten or a
    linear layer, so lepton's flatten order (H, W, C) and Linear weights hold.
    """

    def __init__(self, layers):
        super().__init__()
        self.kinds, self.acts = [], []
        for i, l in enumerate(layers):
            t = l['type']
            if t == 'conv':
                pad = l.get('padding', 0)
                m = torch.nn.Conv2d(l['cin'], l['cout'], l['k'], stride=l.get('stride', 1), padding=pad,
                                    dilation=l.get('dilation', 1), groups=l.get('groups', 1), bias=l.get('bias', True))
            elif t == 'convT':
                m = torch.nn.ConvTranspose2d(l['cin'], l['cout'], l['k'], stride=l.get('stride', 1), padding=l.get('padding', 0),
                                             output_padding=l.get('outputPadding', 0), dilation=l.get('dilation', 1),
                                             groups=l.get('groups', 1), bias=l.get('bias', True))
            elif t == 'maxpool':
                m = torch.nn.MaxPool2d(l['k'], stride=l.get('stride'), padding=l.get('padding', 0), dilation=l.get('dilation', 1),
                                       ceil_mode=l.get('ceilMode', False))
            elif t == 'avgpool':
                m = torch.nn.AvgPool2d(l['k'], stride=l.get('stride'), padding=l.get('padding', 0), ceil_mode=l.get('ceilMode', False),
                                       count_include_pad=l.get('countIncludePad', True))
            elif t == 'bn':
                m = torch.nn.BatchNorm2d(l['c'])
            elif t == 'flatten':
                m = torch.nn.Flatten()
            elif t == 'linear':
                m = torch.nn.Linear(l['in'], l['out'])
            else:
                raise ValueError(t)
            self.add_module(str(i), m)
            self.kinds.append(t)
            self.acts.append(ACT[l.get('act', 'none')])

    def forward(self, x):
        nchw = False
        for i, (kind, act) in enumerate(zip(self.kinds, self.acts)):
            image = kind in ('conv', 'convT', 'maxpool', 'avgpool', 'bn')
            if image and not nchw:
                x, nchw = x.permute(0, 3, 1, 2), True
            if not image and nchw:
                x, nchw = x.permute(0, 2, 3, 1), False
            x = act(getattr(self, str(i))(x))
        return x.permute(0, 2, 3, 1) if nchw else x


BUILDERS = {
    'mlp': lambda s: MLP(s['sizes'], s.get('activation', 'relu'), s.get('outputActivation', 'none')),
    'cnn': lambda s: CNN(s['layers']),
}


def run(model, x, labels, prefix):
    x = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    out = model(x)
    loss = F.cross_entropy(out, torch.tensor(labels, dtype=torch.int64))
    model.zero_grad()
    loss.backward()
    res = {f'{prefix}.out': out.detach().numpy(), f'{prefix}.grad.x': x.grad.numpy()}
    for k, p in model.named_parameters():
        res[f'{prefix}.grad.{k}'] = p.grad.numpy()
    return res


def main(args):
    torch.set_num_threads(1)
    for case, out_path, weights_path in zip(args[0::3], args[1::3], args[2::3]):
        tensors, meta = read_safetensors(case)
        spec = json.loads(meta['spec'])
        x, labels = tensors['x'], tensors['labels'].astype(np.int64)
        # A: lepton's weights in PyTorch.
        model = BUILDERS[spec['kind']](spec)
        sd = {k[len('model.'):]: torch.tensor(np.array(v)) for k, v in tensors.items() if k.startswith('model.')}
        model.load_state_dict(sd, strict=True)
        res = run(model, x, labels, 'a')
        # B: PyTorch's own weights, for lepton to load.
        torch.manual_seed(spec.get('seed', 0))
        model = BUILDERS[spec['kind']](spec)
        write_safetensors(weights_path, {k: v.detach().numpy() for k, v in model.state_dict().items()}, {'format': 'pt'})
        res.update(run(model, x, labels, 'b'))
        write_safetensors(out_path, res, {'torch': torch.__version__, 'numpy': np.__version__})
    print(json.dumps({'torch': torch.__version__, 'cases': len(args) // 3}))


if __name__ == '__main__':
    main(sys.argv[1:])
