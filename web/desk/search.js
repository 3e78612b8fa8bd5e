// Find anything: the search box (`/`) and #/search (stub: filled in by its own change)
import { h, mount } from '/lib/dom.js';

export async function results(ctx) { mount(ctx.root, h('p', { class: 'muted' }, '此页面正在建设中。')); }

/** Mounts the search box into `el` (keyboard: `/`). */
export function box(el, go) { void el; void go; }
