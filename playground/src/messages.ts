// Readable messages in the page: errors (no WebGPU, device lost, settings out
// of range) are shown here, never only in the console.
import { h } from './dom.js';

export type MessageKind = 'error' | 'warning' | 'info';

export class Messages {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly byKey = new Map<string, HTMLElement>();

  constructor() {
    this.list = h('ul', { class: 'messages-list' });
    // role=alert on the container announces each new message to screen readers.
    this.element = h('section', { class: 'messages', 'aria-label': 'Messages', role: 'alert', 'aria-live': 'assertive' }, this.list);
  }

  /** Shows a message; a `key` replaces the previous message with that key. */
  show(text: string, kind: MessageKind = 'info', key?: string): void {
    if (key) this.byKey.get(key)?.remove();
    const close = h('button', { class: 'dismiss', type: 'button', 'aria-label': 'Dismiss message', title: 'Dismiss' }, '×');
    const li = h('li', { class: `message ${kind}`, 'data-kind': kind }, h('span', { class: 'kind' }, kind === 'error' ? 'Error' : kind === 'warning' ? 'Note' : 'Info'), h('span', { class: 'text' }, text), close);
    close.addEventListener('click', () => { li.remove(); if (key) this.byKey.delete(key); });
    this.list.prepend(li);
    if (key) this.byKey.set(key, li);
    while (this.list.children.length > 8) this.list.lastElementChild!.remove();
  }

  clear(key: string): void {
    this.byKey.get(key)?.remove();
    this.byKey.delete(key);
  }

  /** Texts currently shown (for tests). */
  texts(): { kind: string; text: string }[] {
    return [...this.list.querySelectorAll('li')].map((li) => ({ kind: li.dataset.kind ?? '', text: li.querySelector('.text')?.textContent ?? '' }));
  }
}
