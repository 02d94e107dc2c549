// Crop box on the photo: drag to draw a rectangle; on release the box is sent to the server
// as fractions of the photo, [left, top, width, height] in 0..1 (null: no crop). The photo is
// the component's value (a data URL made by the server).
const MIN = 0.02;
let start = null;

const photo = () => element.querySelector("img.crop-photo");
const frame = () => element.querySelector(".crop-box");

function at(event) {
  const rect = photo().getBoundingClientRect();
  const clamp = (v) => Math.min(Math.max(v, 0), 1);
  return [clamp((event.clientX - rect.left) / rect.width),
          clamp((event.clientY - rect.top) / rect.height)];
}

function span(a, b) {
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1])];
}

function draw(box) {
  const el = frame();
  if (!el) return;
  el.style.display = box ? "block" : "none";
  if (!box) return;
  el.style.left = `${box[0] * 100}%`;
  el.style.top = `${box[1] * 100}%`;
  el.style.width = `${box[2] * 100}%`;
  el.style.height = `${box[3] * 100}%`;
}

element.addEventListener("pointerdown", (event) => {
  if (!photo() || !photo().contains(event.target) && event.target !== frame()) return;
  event.preventDefault();
  start = at(event);
  element.setPointerCapture(event.pointerId);
  draw(span(start, start));
});

element.addEventListener("pointermove", (event) => {
  if (start) draw(span(start, at(event)));
});

element.addEventListener("pointerup", (event) => {
  if (!start) return;
  const box = span(start, at(event));
  start = null;
  const small = box[2] < MIN || box[3] < MIN;
  if (small) draw(null);
  trigger("select", { box: small ? null : box });
});
