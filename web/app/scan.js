// Camera barcode scanning where the browser has BarcodeDetector (Android Chrome and
// others); elsewhere the page offers typing only. Resolves the first code whose text
// holds a number `accept` likes, or null when cancelled.
import { h } from '/lib/dom.js';

export const canScan = () => 'BarcodeDetector' in window && !!navigator.mediaDevices?.getUserMedia;

export async function scan(title, accept) {
  const wanted = ['code_128', 'code_39', 'code_93', 'ean_13', 'itf', 'qr_code', 'data_matrix', 'pdf417'];
  const supported = await window.BarcodeDetector.getSupportedFormats?.() || wanted;
  const detector = new window.BarcodeDetector({ formats: wanted.filter((f) => supported.includes(f)) });
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  } catch {
    return null;
  }
  return new Promise((resolve) => {
    let stopped = false;
    const video = h('video', { playsinline: true, muted: true, autoplay: true, class: 'scan-video' });
    video.srcObject = stream;
    const close = (value) => {
      if (stopped) return;
      stopped = true;
      stream.getTracks().forEach((t) => t.stop());
      box.remove();
      resolve(value);
    };
    const box = h('div', { class: 'scan', role: 'dialog', 'aria-label': title },
      h('p', { class: 'scan-title' }, title, '：将条码对准取景框'),
      video,
      h('button', { type: 'button', onclick: () => close(null) }, '取消扫码'));
    document.body.append(box);
    const tick = async () => {
      if (stopped) return;
      try {
        if (video.readyState >= 2) {
          for (const code of await detector.detect(video)) {
            const v = accept(code.rawValue);
            if (v) return close(v);
          }
        }
      } catch { /* a frame the detector could not read */ }
      setTimeout(tick, 150);
    };
    tick();
  });
}
