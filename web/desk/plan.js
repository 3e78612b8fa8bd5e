// The dispatcher's day plan on a time line (stub: filled in by its own change)
import { h, mount } from '/lib/dom.js';

export async function page(ctx) { mount(ctx.root, h('p', { class: 'muted' }, '此页面正在建设中。')); }
