// Tiny DOM helpers: the page is plain DOM, no framework.

type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** h('button', { class: 'x', onclick: fn }, 'text', child) */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string | null | undefined | false)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string' && k !== 'class') (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k === 'className' ? 'class' : k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

export const nextFrame = () => new Promise<number>((r) => requestAnimationFrame(r));

/** A number for people: 3 significant digits, no exponent for the usual ranges. */
export function num(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(digits - 1);
  return String(+v.toPrecision(digits));
}

/** A labelled form row: <label>text <control></label>, with an id link for screen readers. */
let uid = 0;
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || `f${++uid}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('span', { class: 'hint' }, hint) : null);
}

export function select<T extends string>(options: readonly { value: T; label: string; disabled?: string | null }[], value: T, onChange: (v: T) => void): HTMLSelectElement {
  const s = h('select', { onchange: () => onChange(s.value as T) });
  for (const o of options) {
    const opt = h('option', { value: o.value }, o.label + (o.disabled ? ' (unavailable)' : ''));
    if (o.disabled) { opt.disabled = true; opt.title = o.disabled; }
    s.append(opt);
  }
  s.value = value;
  return s;
}

/** Small inline SVG icons (fonts in some browsers lack the media-control glyphs). */
const ICONS = {
  play: 'M8 5v14l11-7z',
  pause: 'M6 5h4v14H6zM14 5h4v14h-4z',
  step: 'M6 5v14l9-7zM16 5h3v14h-3z',
  reset: 'M12 5V2L7 6l5 4V7a5 5 0 1 1-5 5H5a7 7 0 1 0 7-7z',
} as const;
export type IconName = keyof typeof ICONS;

export function icon(name: IconName): SVGSVGElement {
  const root = svg('svg', { viewBox: '0 0 24 24', width: '1em', height: '1em', 'aria-hidden': 'true', focusable: 'false' });
  root.append(svg('path', { d: ICONS[name], fill: 'currentColor' }));
  return root;
}
