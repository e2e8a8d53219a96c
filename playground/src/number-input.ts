// The tabs' number inputs: checked by the URL's rules (state.ts checkInput),
// out-of-range input clamped and said so in the page, the setting updated.
import type { App } from './app.js';
import { h } from './dom.js';
import { checkInput, type Settings } from './state.js';

/** The numeric settings checkInput knows that are settings of their own. */
export type NumericSetting = Parameters<typeof checkInput>[0] & keyof Settings;

/** An `<input type=number>` bound to the numeric setting `key`. */
export function numberInput(app: App, key: NumericSetting, attrs: Record<string, string | number>): HTMLInputElement {
  const input = h('input', { type: 'number', ...attrs, value: String(app.settings[key]) });
  const current = () => app.settings[key] as number;
  input.addEventListener('change', () => {
    const c = checkInput(key, input.value, current());
    if (c.problems.length) app.messages.show(c.problems.join('; '), 'warning', `input-${key}`);
    else app.messages.clear(`input-${key}`);
    input.value = String(c.value);
    app.update({ [key]: c.value });
  });
  return input;
}
