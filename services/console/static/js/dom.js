// Building the DOM without innerHTML (no markup from data is ever parsed, except search
// highlights, which keep only <em>/<mark> through `highlighted`).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Text with the search service's <em>…</em> marks kept as <mark>, everything else as text. */
export function highlighted(text) {
  const span = document.createElement('span');
  const parts = String(text ?? '').split(/(<\/?(?:em|mark)>)/);
  let marked = false;
  for (const part of parts) {
    if (/^<(em|mark)>$/.test(part)) { marked = true; continue; }
    if (/^<\/(em|mark)>$/.test(part)) { marked = false; continue; }
    if (!part) continue;
    span.append(marked ? h('mark', {}, part) : document.createTextNode(part));
  }
  return span;
}

/** A labelled form field: label, control, optional hint; returns the wrapper. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('small', {}, hint) : null);
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}
