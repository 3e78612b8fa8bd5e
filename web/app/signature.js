// The customer's signature: a canvas drawn with a finger (pointer events), exported as
// the PNG data URL the API takes (data:image/png;base64,…, at most 48 KB).
const LIMIT = 48 * 1024;

export function signaturePad(canvas) {
  const ctx = canvas.getContext('2d');
  const scale = Math.min(window.devicePixelRatio || 1, 2);
  let strokes = 0;
  let last = null;

  function size() {
    const r = canvas.getBoundingClientRect();
    canvas.width = Math.round(r.width * scale);
    canvas.height = Math.round(r.height * scale);
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    ctx.lineWidth = 2.6;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = '#0b1f4d';
    strokes = 0;
  }
  const at = (ev) => {
    const r = canvas.getBoundingClientRect();
    return { x: ev.clientX - r.left, y: ev.clientY - r.top };
  };
  canvas.addEventListener('pointerdown', (ev) => {
    ev.preventDefault();
    // sized on first touch: the canvas may not have been laid out when the pad was made
    if (!strokes && canvas.width !== Math.round(canvas.getBoundingClientRect().width * scale)) size();
    canvas.setPointerCapture?.(ev.pointerId);
    last = at(ev);
    ctx.beginPath();
    ctx.arc(last.x, last.y, 1.2, 0, Math.PI * 2);
    ctx.fillStyle = ctx.strokeStyle;
    ctx.fill();
    strokes += 1;
  });
  canvas.addEventListener('pointermove', (ev) => {
    if (!last) return;
    ev.preventDefault();
    const p = at(ev);
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    last = p;
    canvas.dispatchEvent(new Event('signed'));
  });
  const end = () => { last = null; };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  canvas.addEventListener('pointerleave', end);
  if (canvas.isConnected) size();

  return {
    clear: size,
    isEmpty: () => strokes === 0,
    /** The PNG, scaled down until it fits the API's limit. */
    toDataURL() {
      let url = canvas.toDataURL('image/png');
      for (let f = 0.75; url.length > LIMIT && f > 0.1; f -= 0.15) {
        const c = document.createElement('canvas');
        c.width = Math.round(canvas.width * f);
        c.height = Math.round(canvas.height * f);
        c.getContext('2d').drawImage(canvas, 0, 0, c.width, c.height);
        url = c.toDataURL('image/png');
      }
      return url;
    },
  };
}
