// The Weights controls of the playground tab: download the current network's
// weights as a safetensors file (PyTorch's names and layouts; the page's
// settings in its metadata), and load such a file back.
import type { App } from './app.js';
import { h } from './dom.js';
import type { Session } from './session.js';

export const WEIGHTS_FILE = 'playground.safetensors';

export function weightsControls(app: App, sess: Session): HTMLElement {
  const file = h('input', { type: 'file', accept: '.safetensors', id: 'weights-file', hidden: true, 'aria-label': 'A safetensors file of weights' });
  const download = h('button', { type: 'button', class: 'text-button', id: 'weights-download', title: 'Download the weights as a safetensors file (loads in PyTorch too)' }, 'Download');
  const load = h('button', { type: 'button', class: 'text-button', id: 'weights-load', title: 'Load a safetensors file of weights' }, 'Load…');

  download.addEventListener('click', async () => {
    try {
      const bytes = await sess.saveWeights();
      const url = URL.createObjectURL(new Blob([bytes.slice()], { type: 'application/octet-stream' }));
      const a = h('a', { href: url, download: WEIGHTS_FILE, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      app.messages.clear('weights');
    } catch (e) {
      app.messages.show(`Could not save the weights: ${(e as Error).message}`, 'error', 'weights');
    }
  });
  load.addEventListener('click', () => file.click());
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    file.value = ''; // the same file can be chosen again
    if (!f) return;
    try {
      await sess.loadWeights(f);
      app.messages.show(`Loaded the weights of ${f.name}; training continues from them.`, 'info', 'weights');
    } catch (e) {
      app.messages.show(`Could not load ${f.name}: ${(e as Error).message}`, 'error', 'weights');
    }
  });
  return h('div', { class: 'weights-io', role: 'group', 'aria-label': 'Weights' }, h('span', { class: 'label' }, 'Weights'), download, load, file);
}
