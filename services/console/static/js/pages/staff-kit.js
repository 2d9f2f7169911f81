// What the moderator's and administrator's pages share: building elements, calling the API
// through the console's client, tables, forms, messages and authenticated downloads.
// Not a page itself (it exports no `render`); it holds no business rule.

import { acceptLanguage, language, translator as makeTranslator } from "../i18n.js";

const STYLE_ID = "staff-kit-style";

// One stylesheet for the staff pages, injected once: contrast ≥ 4.5:1 on white, a visible
// focus ring, and a single column under 900 px (a phone) with the queue above the detail.
const CSS = `
.sk-page { max-width: 1320px; margin: 0 auto; }
.sk-page h1 { font-size: 1.4rem; margin: .4rem 0 .8rem; }
.sk-page h2 { font-size: 1.15rem; margin: 1rem 0 .5rem; }
.sk-page h3 { font-size: 1rem; margin: .8rem 0 .4rem; }
.sk-muted { color: #4a4a4a; }
.sk-row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
.sk-split { display: grid; grid-template-columns: minmax(260px, 34%) 1fr; gap: 1rem; align-items: start; }
@media (max-width: 900px) { .sk-split { grid-template-columns: 1fr; } }
.sk-list { list-style: none; margin: 0; padding: 0; max-height: 70vh; overflow: auto; border: 1px solid #8a8a8a; }
@media (max-width: 900px) { .sk-list { max-height: 40vh; } }
.sk-list li { padding: .5rem .6rem; border-bottom: 1px solid #d0d0d0; cursor: pointer; }
.sk-list li[aria-selected="true"] { background: #0b3d91; color: #fff; }
.sk-list li[aria-selected="true"] .sk-muted { color: #e8e8e8; }
.sk-badge { display: inline-block; font-size: .75rem; padding: 0 .35rem; border-radius: .25rem; margin-inline-start: .3rem;
  border: 1px solid currentColor; }
.sk-pass { color: #14612b; } .sk-warn { color: #7a4b00; } .sk-fail { color: #a3121b; font-weight: 600; }
.sk-pass, .sk-warn, .sk-fail { white-space: nowrap; }
.sk-list li[aria-selected="true"] .sk-pass, .sk-list li[aria-selected="true"] .sk-warn,
.sk-list li[aria-selected="true"] .sk-fail { color: #fff; }
.sk-table { border-collapse: collapse; width: 100%; font-size: .92rem; }
.sk-table th, .sk-table td { border: 1px solid #b5b5b5; padding: .3rem .45rem; text-align: start; vertical-align: top; }
.sk-table th { background: #eef1f6; }
.sk-scroll { overflow-x: auto; }
.sk-diff-before { background: #fde8e8; color: #5c0a0f; text-decoration: line-through; }
.sk-diff-after { background: #e3f4e6; color: #0d3d1b; }
.sk-form { display: grid; gap: .5rem; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); align-items: end;
  border: 1px solid #b5b5b5; padding: .7rem; margin: .5rem 0 1rem; }
.sk-field { display: flex; flex-direction: column; gap: .2rem; font-size: .9rem; }
.sk-page fieldset label { display: inline-flex; gap: .3rem; align-items: center; margin-inline-end: .8rem; }
.sk-form fieldset { border: 1px solid #b5b5b5; grid-column: 1 / -1; }
.sk-form .sk-actions { grid-column: 1 / -1; display: flex; gap: .5rem; flex-wrap: wrap; }
.sk-page input, .sk-page select, .sk-page textarea, .sk-page button { font: inherit; padding: .3rem .45rem; min-height: 2.2rem; }
.sk-page button { cursor: pointer; border: 1px solid #0b3d91; background: #fff; color: #0b3d91; border-radius: .25rem; }
.sk-page button.sk-primary { background: #0b3d91; color: #fff; }
.sk-page button.sk-danger { border-color: #a3121b; color: #a3121b; }
.sk-page button.sk-danger.sk-primary { background: #a3121b; color: #fff; }
.sk-page :focus-visible { outline: 3px solid #f0a000; outline-offset: 2px; }
.sk-status { min-height: 1.4rem; margin: .3rem 0; }
.sk-status[data-kind="error"] { color: #a3121b; font-weight: 600; }
.sk-status[data-kind="ok"] { color: #14612b; }
.sk-pages { display: flex; flex-wrap: wrap; gap: .5rem; }
.sk-pages img { max-width: min(100%, 420px); border: 1px solid #8a8a8a; background: #fff; }
.sk-player video { width: 100%; max-width: 720px; background: #000; }
.sk-kbd { font-family: monospace; border: 1px solid #777; border-radius: 3px; padding: 0 .3rem; background: #f6f6f6; color: #111; }
.sk-picker { border: 2px solid #a3121b; padding: .6rem; margin: .6rem 0; background: #fff8f8; }
.sk-picker ol { margin: .3rem 0; padding-inline-start: 1.6rem; }
.sk-chart { width: 100%; height: 420px; }
@media (max-width: 900px) { .sk-chart { height: 340px; } }
.sk-token { font-family: monospace; word-break: break-all; background: #fffbe6; border: 1px solid #7a4b00; padding: .4rem; }
.sk-visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
`;

export function ensureStyle() {
  if (document.getElementById(STYLE_ID)) return;
  const style = document.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  document.head.appendChild(style);
}

// h("button", {class: "x", onclick: fn, "aria-label": "…"}, "text", child, …)
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "value") node.value = value;
    else if (name === "checked" || name === "selected" || name === "disabled" || name === "multiple") node[name] = !!value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// The page's own strings through the console's translator (Chinese first, then English).
export function translator(ctx, strings) {
  return makeTranslator(strings);
}

export function pageLang() {
  return language() === "en" ? "en" : "zh-CN";
}

// Every call goes through the console's API client (auth, Accept-Language, problem details).
export async function call(ctx, method, path, { query, json, headers } = {}) {
  return ctx.api.request(method, path, { params: query, json, headers });
}

// Every page of a paginated list (the API caps `size` at 100).
export async function allPages(ctx, path, query = {}, limit = 20) {
  const items = [];
  for (let page = 1; page <= limit; page++) {
    const reply = await call(ctx, "GET", path, { query: { ...query, page, size: 100 } });
    items.push(...reply.items);
    if (items.length >= reply.total || reply.items.length === 0) break;
  }
  return items;
}

// A problem detail's own words (the API wrote them in the caller's language).
export function problemText(error) {
  const problem = (error && error.problem) || error;
  if (problem && typeof problem === "object") {
    const lines = [problem.detail || problem.title || problem.message];
    for (const item of problem.errors || []) lines.push(`${(item.loc || []).join(".")}: ${item.msg}`);
    if (problem.code && !String(problem.code).startsWith("http.")) lines.push(`(${problem.code})`);
    return lines.filter(Boolean).join(" — ");
  }
  return String(error);
}

// A polite live region: what a keystroke did is read out, and shown.
export function statusLine() {
  const node = h("p", { class: "sk-status", role: "status", "aria-live": "polite" });
  node.show = (text, kind = "info") => { node.dataset.kind = kind; node.textContent = text; };
  node.fail = (error) => node.show(problemText(error), "error");
  return node;
}

export function table(columns, rows, { caption } = {}) {
  return h("div", { class: "sk-scroll" }, h("table", { class: "sk-table" },
    caption ? h("caption", { class: "sk-visually-hidden" }, caption) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c) => h("td", {}, c.cell(row))))))));
}

let fieldIds = 0;

// A labelled control; a hint is tied to it with aria-describedby (read after the label).
export function field(label, control, hint) {
  if (!control.id) control.id = `sk-field-${++fieldIds}`;
  const note = hint ? h("small", { class: "sk-muted", id: `${control.id}-hint` }, hint) : null;
  if (note) control.setAttribute("aria-describedby", note.id);
  return h("div", { class: "sk-field" }, h("label", { for: control.id }, label), control, note);
}

export function select(name, options, value, attrs = {}) {
  return h("select", { name, ...attrs }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}

export function when(value, lang) {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value)
    : date.toLocaleString(lang === "en" ? "en-GB" : "zh-CN", { hour12: false });
}

export function display(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.length ? value.map(display).join(", ") : "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// A file the API sends only with the caller's token (a CSV export): fetched through the client,
// then handed to the browser as a download under the name the API gave it.
export async function download(ctx, path, fallbackName) {
  const response = await fetch(`${ctx.api.base}${path}`, { headers: { ...ctx.api.authHeaders(), "Accept-Language": acceptLanguage() } });
  if (!response.ok) {
    let problem = {};
    try { problem = await response.json(); } catch (error) { problem = { detail: response.statusText }; }
    throw Object.assign(new Error(problem.detail || `HTTP ${response.status}`), { problem });
  }
  const disposition = response.headers.get("content-disposition") || "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1]) : fallbackName;
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name, class: "sk-visually-hidden" }, name);
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { name, size: blob.size };
}

// Keys typed into a form are the form's, not shortcuts.
export function typingIn(event) {
  const target = event.target;
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

// A shortcut listener that lives as long as the page's root is in the document.
export function onKeys(root, handler) {
  const listener = (event) => {
    if (!root.isConnected) { document.removeEventListener("keydown", listener); return; }
    handler(event);
  };
  document.addEventListener("keydown", listener);
  return () => document.removeEventListener("keydown", listener);
}

export function hasRole(ctx, ...roles) {
  const mine = (ctx.user && ctx.user.roles) || [];
  return roles.some((role) => mine.includes(role));
}
