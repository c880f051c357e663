// Building the page: every name, message and title from the API becomes a text node (textContent), never
// markup, so a name like <img src=x onerror=...> shows as those characters.
let unique = 0;
export const newID = (prefix) => `${prefix}-${++unique}`;

/// An element: `attrs` sets properties (`text`, `hidden`, `value`, `checked`, `disabled`, `selected`),
/// listeners (`on: {click}`) and attributes (anything else); `children` are nodes or strings (as text).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'on') for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (name === 'text') el.textContent = value;
    else if (['hidden', 'value', 'checked', 'disabled', 'selected', 'multiple', 'required'].includes(name)) el[name] = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/// Text for screen readers only (a button's "Delete" + " Garage"): part of the accessible name without an
/// aria-label, so that label lookups of the form fields never match a button.
export const vh = (text) => h('span', { class: 'vh', text });

/// A labelled control: `{label, control, help}` → a wrapper with <label for>, the control and its help text.
export function field(label, control, help) {
  if (!control.id) control.id = newID('f');
  const wrap = h('div', { class: 'field' }, h('label', { for: control.id, text: label }), control);
  if (help) {
    const p = h('p', { class: 'help', id: `${control.id}-help`, text: help });
    control.setAttribute('aria-describedby', p.id);
    control.dataset.help = p.id;
    wrap.append(p);
  }
  return wrap;
}

/// Marks `control` as having `message` (aria-invalid, the message as its description), or clears it.
export function setProblem(control, message) {
  const id = `${control.id}-problem`;
  let p = document.getElementById(id);
  if (!message) {
    if (p) p.remove();
    control.removeAttribute('aria-invalid');
    if (control.dataset.help) control.setAttribute('aria-describedby', control.dataset.help);
    else control.removeAttribute('aria-describedby');
    return;
  }
  if (!p) {
    p = h('p', { class: 'problem', id });
    control.insertAdjacentElement('afterend', p);
  }
  p.textContent = message;
  control.setAttribute('aria-invalid', 'true');
  control.setAttribute('aria-describedby', id);
}

const statusLine = () => document.getElementById('status');
/// Says `message` in the status line (a polite live region).
export function say(message) {
  const s = statusLine();
  s.textContent = '';
  // A fresh text node so that the same message twice is announced twice.
  window.setTimeout(() => { s.textContent = message; }, 30);
}

/// Asks "question" in the modal dialog; resolves true when the Delete button is pressed.
export function confirmDelete(question, action = 'Delete') {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = question;
  document.getElementById('confirm-yes').textContent = action;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true });
    dialog.showModal();
  });
}

/// The problem of a failed call as one line, with the users a 409 names.
export function problemText(error) {
  let text = error.message;
  const users = error.problem && Array.isArray(error.problem.users) ? error.problem.users : [];
  if (users.length > 0 && !users.every((u) => text.includes(u))) text += ` (used by ${users.join(', ')})`;
  return text;
}

/// An alert box with the text of a failure.
export function alertBox(text, ...children) {
  return h('div', { class: 'alert', role: 'alert' }, h('p', { text }), ...children);
}

/// A line diff (longest common subsequence): [{kind: ' '|'-'|'+', line}].
export function lineDiff(a, b) {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  if (n * m > 4000000) return [...x.map((line) => ({ kind: '-', line })), ...y.map((line) => ({ kind: '+', line }))];
  const table = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i][j] = x[i] === y[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { out.push({ kind: ' ', line: x[i] }); i++; j++; }
    else if (table[i + 1][j] >= table[i][j + 1]) out.push({ kind: '-', line: x[i++] });
    else out.push({ kind: '+', line: y[j++] });
  }
  while (i < n) out.push({ kind: '-', line: x[i++] });
  while (j < m) out.push({ kind: '+', line: y[j++] });
  return out;
}

/// A phone number as people write it: (514) 555-0100.
export function phone(digits) {
  const d = String(digits || '');
  return /^[0-9]{10}$/.test(d) ? `(${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}` : d;
}
