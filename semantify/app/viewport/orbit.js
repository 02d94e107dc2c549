// Drag-to-orbit viewer, run by gr.HTML's js_on_load (element, props, server, trigger, watch).
//
// Drag: orbit. Wheel or pinch: zoom. Right- or shift-drag: pan. Double-click: reset.
// Arrow keys (when the view has focus): orbit; + and -: zoom.
// While the pointer moves, frames are asked for at "draft" quality; on release (and shortly
// after the wheel stops) one "full" frame. At most one request is in flight; only the latest
// camera waits behind it, so stale views are never asked for. The server may drop a request
// (busy, rate, stale): the latest camera is then asked again.
// With ``props.sliders`` (a CSS selector of the app's slider column, whose gr.Sliders have
// elem_ids "slider-<slot>"), dragging one of its range sliders asks for draft frames carrying
// the slider values, and its release for the full frame, so a slider drag is drawn through
// this same channel; when the sliders come to rest (released, or keys settled) the component
// fires its "settle" event with the values, for the app to update its state and tables.
// A frame drawn from slider values may carry ``sliders``: the values of the sliders the page did
// not move (a metric set's free ones, which follow the body); they are shown at once, and left
// out of the values sent back until the visitor moves one of them (then it is set).
// ``props.limits``: the camera's elevation, distance and pan limits (see LIMITS).
const HOME = { azimuth: 0, elevation: 10, distance: 1, pan: [0, 0] };
const ORBIT_DEG_PER_PX = 0.45, ZOOM_PER_WHEEL = 0.0015, SETTLE_MS = 160;
// The camera's limits come from the server (viewer.camera.orbit_limits), which clamps to them.
const LIMITS = props.limits;
let camera = structuredClone(HOME);
let seq = 0, shown = 0, inflight = false, pending = null, settle = null;
let sentValues = "", sentQuality = "final";  // slider values of the shown scene, how built
let currentView = "";  // the view id frames are asked for (see followView below)
const pointers = new Map();
const followed = new Map();  // slot -> the value a frame showed on a slider the page did not move
let gesture = null;  // {mode: "orbit"|"pan"|"pinch", x, y, spread}

// For benches and tests: frames shown (asked for, and pushed by the server's own events).
const stats = (element.orbitStats = { frames: 0, full: 0, draft: 0, dropped: 0, pushed: 0,
                                      lastFullAt: 0, releasedAt: 0, sliderFullAt: 0,
                                      sliderReleasedAt: 0, followed: 0 });
const stage = () => element.querySelector(".orbit-stage");
const frame = () => element.querySelector(".orbit-frame");
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

// [[slot, value], ...] of the range sliders in ``props.sliders``; a slider's slot is the number
// ending the id of its element (gr.Slider elem_id "slider-3": slot 3). A slider still showing
// the value a frame gave it (``followed``) is left out: the server keeps its own value for it.
function slotOf(input) {
  const owner = input.closest('[id^="slider-"]');
  const slot = owner && /-(\d+)$/.exec(owner.id);
  return slot ? Number(slot[1]) : null;
}

function sliderValues() {
  if (!props.sliders) return null;
  const pairs = [];
  for (const range of document.querySelectorAll(`${props.sliders} input[type=range]`)) {
    const slot = slotOf(range);
    if (slot === null || followed.get(slot) === Number(range.value)) continue;
    pairs.push([slot, Number(range.value)]);
  }
  return pairs.length ? pairs : null;
}

// Show the values a frame gave the sliders the page did not move (range, number box, fill).
function showFollowed(pairs) {
  if (!props.sliders || !Array.isArray(pairs)) return;
  for (const [slot, value] of pairs) {
    if (slot === movingSlot) continue;
    const owner = document.querySelector(`${props.sliders} #slider-${slot}`);
    const range = owner && owner.querySelector("input[type=range]");
    if (!range) continue;
    range.value = String(value);
    const [low, high] = [Number(range.min), Number(range.max)];
    range.style.setProperty("--range_progress",
                            `${high > low ? ((Number(range.value) - low) / (high - low)) * 100 : 0}%`);
    const box = owner.querySelector("input[type=number]");
    if (box) box.value = range.value;
    followed.set(slot, Number(range.value));
    stats.followed += 1;
  }
}

function ask(quality, withValues = false, quick = false) {
  // Replace whatever waits: a full frame is never downgraded by a later draft of the same view.
  if (pending && pending.quality === "full" && quality === "draft" && !gesture) return pump();
  const values = withValues ? sliderValues() : null;
  pending = { quality, quick, camera: structuredClone(camera),
              values: values || (pending && pending.values) || null };
  pump();
}

async function pump() {
  if (inflight || !pending || !props.view || props.view !== currentView) return;
  const job = pending;
  pending = null;
  inflight = true;
  const mine = ++seq;
  let retry = 0;
  const request = { view: props.view, seq: mine, quality: job.quality, quick: job.quick,
                    size: frameSize(), ...job.camera };
  const values = job.values && JSON.stringify(job.values);
  const built = job.quick || job.quality === "draft" ? "quick" : "final";
  // Send values when they changed, or to rebuild a quickly built scene in full.
  if (values && (values !== sentValues || (built === "final" && sentQuality !== "final"))) {
    request.values = job.values;
  }
  try {
    const reply = await server.frame(request);
    if (reply && reply.image && request.values) {
      [sentValues, sentQuality] = [values, reply.final === false ? "quick" : "final"];
      // A quick full frame first (shown at once), then the refined one.
      if (job.quality === "full" && reply.final === false && !pending) {
        pending = { quality: "full", quick: false, camera: structuredClone(camera),
                    values: job.values };
      }
    }
    if (reply && reply.image) {
      // A full frame drawn as a draft while the server is crowded: ask again after a while.
      if (job.quality === "full" && reply.quality === "draft" && !pending) {
        pending = job;
        retry = reply.retry_ms || 1000;
      }
      if (mine > shown) {
        shown = mine;
        frame().src = reply.image;
        if (reply.sliders) showFollowed(reply.sliders);
        stats.frames += 1;
        stats[reply.quality] += 1;
        if (reply.quality === "full") stats.lastFullAt = performance.now();
        if (reply.quality === "full" && stats.sliderReleasedAt > stats.sliderFullAt) {
          stats.sliderFullAt = stats.lastFullAt;
        }
        element.dataset.camera = JSON.stringify(job.camera);
      }
    } else if (reply && reply.dropped) {
      stats.dropped += 1;
      if (reply.dropped === "unknown") trigger("expired");
      else if (reply.dropped !== "stale" && !pending) { pending = job; retry = reply.retry_ms; }
    }
  } catch (error) {
    console.warn("orbit view:", error);
  }
  inflight = false;
  if (retry) setTimeout(pump, retry); else pump();
}

function settleSoon(sliders = false) {
  clearTimeout(settle);
  settle = setTimeout(() => {
    ask("full", sliders, true);
    if (sliders) settleSliders();
  }, SETTLE_MS);
}

function settleSliders() {
  movingSlot = null;  // at rest: a frame may show any free slider again
  const values = sliderValues();
  if (values) trigger("settle", { values });
}

function orbit(dx, dy) {
  camera.azimuth = ((camera.azimuth - dx * ORBIT_DEG_PER_PX + 180) % 360 + 360) % 360 - 180;
  camera.elevation = clamp(camera.elevation + dy * ORBIT_DEG_PER_PX, ...LIMITS.elevation);
}

function pan(dx, dy) {
  const perPixel = (2.2 * camera.distance) / Math.max(stage().clientHeight, 1);
  camera.pan = [clamp(camera.pan[0] - dx * perPixel, -LIMITS.pan, LIMITS.pan),
                clamp(camera.pan[1] + dy * perPixel, -LIMITS.pan, LIMITS.pan)];
}

// Zoom by ``factor``; with a pointer position (client pixels), towards the point under it:
// the pan moves so that point stays put (the same scale as ``pan``).
function zoom(factor, at = null) {
  const before = camera.distance;
  camera.distance = clamp(camera.distance * factor, ...LIMITS.distance);
  if (!at) return;
  const box = stage().getBoundingClientRect();
  const moved = (2.2 * (before - camera.distance)) / Math.max(box.height, 1);
  const dx = at.x - (box.left + box.width / 2), dy = at.y - (box.top + box.height / 2);
  camera.pan = [clamp(camera.pan[0] + dx * moved, -LIMITS.pan, LIMITS.pan),
                clamp(camera.pan[1] - dy * moved, -LIMITS.pan, LIMITS.pan)];
}
// The side the page shows frames at, in device pixels (the server picks the frame size).
function frameSize() {
  return Math.round(stage().clientWidth * (window.devicePixelRatio || 1));
}

function spread() {
  const [a, b] = [...pointers.values()];
  return Math.hypot(a.x - b.x, a.y - b.y) || 1;
}

function onDown(event) {
  if (!event.target.closest(".orbit-stage")) return;
  event.preventDefault();
  try { stage().setPointerCapture(event.pointerId); } catch { /* a synthetic pointer */ }
  stage().focus({ preventScroll: true });
  pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
  if (pointers.size === 2) gesture = { mode: "pinch", spread: spread() };
  else gesture = { mode: event.button === 2 || event.shiftKey ? "pan" : "orbit",
                   x: event.clientX, y: event.clientY };
}

function onMove(event) {
  if (!gesture || !pointers.has(event.pointerId)) return;
  event.preventDefault();
  pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
  if (gesture.mode === "pinch") {
    if (pointers.size < 2) return;
    const now = spread(), [a, b] = [...pointers.values()];
    zoom(gesture.spread / now, { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });
    gesture.spread = now;
  } else {
    const dx = event.clientX - gesture.x, dy = event.clientY - gesture.y;
    gesture.x = event.clientX;
    gesture.y = event.clientY;
    if (gesture.mode === "pan") pan(dx, dy); else orbit(dx, dy);
  }
  ask("draft");
}

function onUp(event) {
  if (!pointers.delete(event.pointerId)) return;
  if (pointers.size === 0 && gesture) {
    gesture = null;
    stats.releasedAt = performance.now();
    ask("full");
  } else if (pointers.size === 1 && gesture) {
    const [p] = pointers.values();
    gesture = { mode: "orbit", x: p.x, y: p.y };
  }
}

function onWheel(event) {
  if (!event.target.closest(".orbit-stage")) return;
  event.preventDefault();
  zoom(Math.exp(event.deltaY * ZOOM_PER_WHEEL), { x: event.clientX, y: event.clientY });
  ask("draft");
  settleSoon();
}

function onKey(event) {
  const steps = { ArrowLeft: () => orbit(-20, 0), ArrowRight: () => orbit(20, 0),
                  ArrowUp: () => orbit(0, -12), ArrowDown: () => orbit(0, 12),
                  "+": () => zoom(0.9), "=": () => zoom(0.9), "-": () => zoom(1.1) };
  if (!steps[event.key] || !event.target.closest(".orbit-stage")) return;
  event.preventDefault();
  steps[event.key]();
  ask("draft");
  settleSoon();
}

function reset(event) {
  if (!event.target.closest(".orbit-stage")) return;
  camera = structuredClone(HOME);
  ask("full");
}

// Listeners live on the component's root, which outlives template re-renders.
element.addEventListener("pointerdown", onDown);
element.addEventListener("pointermove", onMove);
element.addEventListener("pointerup", onUp);
element.addEventListener("pointercancel", onUp);
element.addEventListener("wheel", onWheel, { passive: false });
element.addEventListener("keydown", onKey);
element.addEventListener("dblclick", reset);
element.addEventListener("contextmenu", (event) => {
  if (event.target.closest(".orbit-stage")) event.preventDefault();
});
let sliderHeld = false;  // a slider dragged with the pointer: its release event sends the full frame
let movingSlot = null;  // the slot the visitor moved last: never overwritten by a frame's values
function isSlider(target) {
  return Boolean(props.sliders && target.matches?.(`${props.sliders} input[type=range]`));
}
function onSlider(event) {
  if (!element.isConnected) return document.removeEventListener("input", onSlider, true);
  if (!isSlider(event.target)) return;
  movingSlot = slotOf(event.target);
  followed.delete(movingSlot);  // moved by the visitor: it is sent, and becomes set
  ask("draft", true);
  if (!sliderHeld) settleSoon(true);  // keys: no release, so settle after a pause
}
document.addEventListener("input", onSlider, true);
// A value typed into a slider's number box (committed with Enter or by leaving the box) moves
// the slider without an input event on it: draw and settle once the slider has the value.
function onSliderBox(event) {
  if (!element.isConnected) return document.removeEventListener("change", onSliderBox, true);
  if (!props.sliders || !event.target.matches?.(`${props.sliders} input[type=number]`)) return;
  movingSlot = slotOf(event.target);
  followed.delete(movingSlot);
  settleSoon(true);
}
document.addEventListener("change", onSliderBox, true);
document.addEventListener("pointerdown", (e) => { if (isSlider(e.target)) sliderHeld = true; }, true);
document.addEventListener("pointerup", () => {
  if (!sliderHeld) return;
  sliderHeld = false;
  stats.sliderReleasedAt = performance.now();
  ask("full", true, true);  // a quick full frame now; the refined one follows if there is one
  setTimeout(settleSliders, SETTLE_MS);  // the app's numbers after the frame, not with it
}, true);
// A new frame from the server's own events (a slider released, a pose) arrives as ``value``:
// newer than any frame asked for before it, and drawn for the sliders' current values.
watch("value", () => {
  shown = seq;
  [sentValues, sentQuality] = [JSON.stringify(sliderValues()), "final"];
  stats.pushed += 1;
});
// The view id (``props.view``) may arrive after the first frame, or change when the server
// forgot the old one: a new view's sequence starts afresh, and it is drawn at once.
(function followView() {
  if (!element.isConnected) return;
  if (props.view && props.view !== currentView) {
    currentView = props.view;
    seq = 0;
    shown = 0;
    ask("full");
  }
  setTimeout(followView, 200);
})();
