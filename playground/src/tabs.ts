// The tab registry. A tab is one module exporting a TabDef; main.ts lists
// them. Digits and sequence tabs (when convolution and attention exist) are
// one new module each plus one line in main.ts.
import type { App } from './app.js';
import { h } from './dom.js';

export interface TabInstance {
  /** The panel's content. */
  element: HTMLElement;
  /** Called when the tab becomes visible / hidden (e.g. pause work it started). */
  show?(): void;
  hide?(): void;
  /** A keyboard shortcut while this tab is visible; return true if handled. */
  onKey?(e: KeyboardEvent): boolean;
  /** Shortcut help lines for this tab: [keys, what]. */
  shortcuts?: [string, string][];
}

export interface TabDef {
  id: string;
  title: string;
  create(app: App): TabInstance;
}

export class Tabs {
  readonly nav: HTMLElement;
  readonly panels: HTMLElement;
  private readonly made = new Map<string, TabInstance>();
  private readonly buttons = new Map<string, HTMLButtonElement>();
  private readonly panelOf = new Map<string, HTMLElement>();
  current = '';

  constructor(private readonly defs: readonly TabDef[], private readonly app: App) {
    this.nav = h('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'Views' });
    this.panels = h('div', { class: 'panels' });
    defs.forEach((d, i) => {
      const b = h('button', {
        type: 'button', role: 'tab', id: `tab-${d.id}`, 'aria-controls': `panel-${d.id}`, 'aria-selected': 'false', tabindex: -1,
        title: `${d.title} (key ${i + 1})`,
      }, d.title);
      b.addEventListener('click', () => this.select(d.id));
      // Arrow keys move between tabs (the WAI-ARIA tabs pattern).
      b.addEventListener('keydown', (e) => {
        const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
        if (!step) return;
        e.preventDefault();
        const next = defs[(i + step + defs.length) % defs.length];
        this.select(next.id);
        this.buttons.get(next.id)!.focus();
      });
      this.buttons.set(d.id, b);
      this.nav.append(b);
      const panel = h('section', { class: 'panel', role: 'tabpanel', id: `panel-${d.id}`, 'aria-labelledby': `tab-${d.id}`, hidden: true });
      this.panelOf.set(d.id, panel);
      this.panels.append(panel);
    });
  }

  get ids(): string[] { return this.defs.map((d) => d.id); }

  /** The instance of a tab, created on first use. */
  instance(id: string): TabInstance {
    let t = this.made.get(id);
    if (!t) {
      const def = this.defs.find((d) => d.id === id);
      if (!def) throw new Error(`no tab ${id}`);
      t = def.create(this.app);
      this.panelOf.get(id)!.append(t.element);
      this.made.set(id, t);
    }
    return t;
  }

  select(id: string): void {
    if (!this.defs.some((d) => d.id === id)) id = this.defs[0].id;
    if (id === this.current) return;
    if (this.current) {
      this.made.get(this.current)?.hide?.();
      this.panelOf.get(this.current)!.hidden = true;
      const b = this.buttons.get(this.current)!;
      b.setAttribute('aria-selected', 'false');
      b.tabIndex = -1;
    }
    this.current = id;
    const inst = this.instance(id);
    this.panelOf.get(id)!.hidden = false;
    const b = this.buttons.get(id)!;
    b.setAttribute('aria-selected', 'true');
    b.tabIndex = 0;
    inst.show?.();
    if (this.app.settings.tab !== id) this.app.update({ tab: id });
  }

  active(): TabInstance | undefined {
    return this.made.get(this.current);
  }
}
