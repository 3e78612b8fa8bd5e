// A small DOM builder: h('button', {onclick, class: 'primary'}, '提交').
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}
export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/** Replace the children of `root` with `nodes`. */
export function mount(root, ...nodes) {
  root.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
}

/** A short message at the bottom of the screen (role=status, read by screen readers). */
export function toast(text, kind = 'info') {
  let box = $('#toasts');
  if (!box) {
    box = h('div', { id: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const t = h('div', { class: `toast ${kind}` }, text);
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 3500);
}

/**
 * Runs `f` for a tap on `button`: the button is disabled, marked busy (`aria-busy`, and its
 * text says `busyText`) until `f` is answered — a second tap meanwhile does nothing, so an
 * action waiting for the GPS or the network is never sent twice. Answers what `f` answers
 * (undefined when the button was already busy).
 */
export async function press(button, f, busyText = '正在处理…') {
  if (!button) return f();
  if (button.dataset.busy) return undefined;
  const text = button.textContent;
  button.dataset.busy = '1';
  button.setAttribute('aria-busy', 'true');
  button.disabled = true;
  const label = button.getAttribute('aria-label');
  if (busyText) {
    // the accessible name stays the action's (a screen reader hears "确认收款, busy")
    if (label === null) button.setAttribute('aria-label', text);
    button.textContent = busyText;
  }
  try {
    return await f();
  } finally {
    delete button.dataset.busy;
    button.removeAttribute('aria-busy');
    if (busyText) {
      button.textContent = text;
      if (label === null) button.removeAttribute('aria-label');
    }
    if (button.isConnected) button.disabled = false;
  }
}

/** An `onclick` for an action button: `press(ev.currentTarget, () => f(ev))`. */
export const onPress = (f, busyText) => (ev) => press(ev.currentTarget, () => f(ev), busyText);
