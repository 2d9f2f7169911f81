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

/** The search service's highlight (escaped text with <em> marks) as text with <mark>s: parsed
 * in an inert <template>, only text nodes and the marks are kept. */
export function highlighted(markup) {
  const template = document.createElement('template');
  template.innerHTML = String(markup ?? '');
  const span = document.createElement('span');
  const walk = (node, marked) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) span.append(marked ? h('mark', {}, child.textContent) : child.textContent);
      else if (child.nodeType === Node.ELEMENT_NODE) walk(child, marked || ['EM', 'MARK'].includes(child.tagName));
    }
  };
  walk(template.content, false);
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
