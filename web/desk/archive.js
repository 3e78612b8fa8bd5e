// The customer archive (客户档案) (stub: filled in by its own change)
import { h, mount } from '/lib/dom.js';

export async function list(ctx) { mount(ctx.root, h('p', { class: 'muted' }, '此页面正在建设中。')); }
export async function detail(ctx) { mount(ctx.root, h('p', { class: 'muted' }, '此页面正在建设中。')); }
