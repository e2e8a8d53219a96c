# PyTorch's side of test/interop/rnn-torch.test.ts. Reads a JSON list of
# cases (module kind and constructor arguments, lepton's state dict by key,
# input, initial state, output cotangents), builds each module in torch,
# loads lepton's state dict strictly, runs forward and backward of
# <gOut, out> + <gh, h_n> (+ <gc, c_n>), and writes the results; then builds
# each module again with torch's own initialisation (seeded) and writes its
# state dict and outputs for lepton to reproduce.
import json
import sys

import torch

torch.set_default_dtype(torch.float32)


def build(c):
    kind, a = c['kind'], c['args']
    if kind in ('RNN', 'LSTM', 'GRU'):
        kw = dict(num_layers=a['numLayers'], bias=a['bias'], batch_first=a['batchFirst'], bidirectional=a['bidirectional'])
        if kind == 'RNN':
            kw['nonlinearity'] = a['nonlinearity']
        return getattr(torch.nn, kind)(a['inputSize'], a['hiddenSize'], **kw)
    kw = dict(bias=a['bias'])
    if kind == 'RNNCell':
        kw['nonlinearity'] = a['nonlinearity']
    return getattr(torch.nn, kind)(a['inputSize'], a['hiddenSize'], **kw)


def t(entry, grad=False):
    return torch.tensor(entry['data'], dtype=torch.float32).reshape(entry['shape']).requires_grad_(grad)


def flat(x):
    return {'data': x.detach().reshape(-1).tolist(), 'shape': list(x.shape)}


def run(m, c, x, h0, c0):
    kind = c['kind']
    lstm = kind in ('LSTM', 'LSTMCell')
    cell = kind.endswith('Cell')
    state = (h0, c0) if lstm and h0 is not None else h0
    if cell:
        r = m(x, state)
        out, h, cc = (None, r[0], r[1]) if lstm else (None, r, None)
    else:
        out, st = m(x, state)
        h, cc = (st[0], st[1]) if lstm else (st, None)
    return out, h, cc


def roundtrip(c):
    m = build(c)
    sd = {k: t(v) for k, v in c['state'].items()}
    m.load_state_dict(sd, strict=True)  # lepton's keys and shapes must be exactly PyTorch's
    x = t(c['x'], True)
    h0 = t(c['h0'], True) if c.get('h0') else None
    c0 = t(c['c0'], True) if c.get('c0') else None
    out, h, cc = run(m, c, x, h0, c0)
    loss = (h * t(c['gh'])).sum()
    if out is not None:
        loss = loss + (out * t(c['gOut'])).sum()
    if cc is not None:
        loss = loss + (cc * t(c['gc'])).sum()
    loss.backward()
    res = {'h': flat(h), 'grads': {k: flat(p.grad) for k, p in m.named_parameters()}, 'dx': flat(x.grad)}
    if out is not None:
        res['out'] = flat(out)
    if cc is not None:
        res['c'] = flat(cc)
    if h0 is not None:
        res['dh0'] = flat(h0.grad)
    if c0 is not None:
        res['dc0'] = flat(c0.grad)
    # PyTorch's own initialisation, for the other direction.
    torch.manual_seed(c['seed'])
    m2 = build(c)
    with torch.no_grad():
        out2, h2, c2 = run(m2, c, t(c['x']), None, None)
    res['torchState'] = {k: flat(v) for k, v in m2.state_dict().items()}
    res['torchH'] = flat(h2)
    if out2 is not None:
        res['torchOut'] = flat(out2)
    if c2 is not None:
        res['torchC'] = flat(c2)
    return res


if __name__ == '__main__':
    cases = json.load(open(sys.argv[1]))
    json.dump([roundtrip(c) for c in cases], open(sys.argv[2], 'w'))
