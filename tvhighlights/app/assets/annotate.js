// The annotation page's keys, player and strip (loaded through launch(head=...)).
// Keys click the page's buttons (so a key and the mouse do the same thing); the player is
// moved, looped and sped up here, without a round trip: the server writes the current clip's
// bounds into the hidden #clip-bounds box ({start, end, seq}); a new seq seeks to the start.
(() => {
  const $ = (sel) => document.querySelector(sel);
  const video = () => $("#tvh-video");
  const field = (id) => $(`#${id} textarea, #${id} input`);
  const bounds = () => {
    const el = field("clip-bounds");
    try {
      return JSON.parse((el && el.value) || "{}");
    } catch (e) {
      return {};
    }
  };
  const click = (id) => {
    const b = document.getElementById(id);
    if (b) b.click();
    return !!b;
  };
  // a clip of the strip, or the player running on into another clip: tell the server
  const goto = (clip, follow) => {
    const el = field("goto-clip");
    if (!el) return;
    el.value = `${clip}${follow ? "f" : ""}`;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    setTimeout(() => click("goto"), 30);
  };
  const KEYS = {
    h: "hl", x: "not", 1: "cat-1", 2: "cat-2", 3: "cat-3", 4: "cat-4", 5: "cat-5",
    ArrowRight: "next", l: "next", ArrowLeft: "prev", j: "prev", u: "next-todo",
    v: "next-video",
  };
  const typing = (t) => {
    const tag = (t && t.tagName) || "";
    if (tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable)) return true;
    if (tag !== "INPUT") return false;
    return !["checkbox", "radio", "button", "range"].includes((t.type || "").toLowerCase());
  };
  document.addEventListener("keydown", (e) => {
    if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    const v = video();
    if (e.key === " ") {
      e.preventDefault();
      if (v) (v.paused ? v.play() : v.pause());
    } else if (e.key === "r") {
      e.preventDefault();
      const b = bounds();
      if (v && Number.isFinite(b.start)) {
        v.currentTime = b.start;
        v.play();
      }
    } else if (KEYS[e.key] !== undefined) {
      e.preventDefault();
      click(KEYS[e.key]);
    }
  });
  document.addEventListener("click", (e) => {
    const cell = e.target && e.target.closest && e.target.closest(".tvh-clip");
    if (cell) goto(Number(cell.dataset.clip), false);
  });
  let seq = null;
  let element = null;
  let asked = null;
  const tick = () => {
    const v = video();
    const b = bounds();
    if (!v || !Number.isFinite(b.start)) return;
    if (v !== element || b.seq !== seq) {
      element = v;
      seq = b.seq;
      asked = null;
      if (Math.abs(v.currentTime - b.start) > 0.05) v.currentTime = b.start;
    }
    const rate = Number((($("#speed input:checked") || {}).value) || 1);
    if (v.playbackRate !== rate) v.playbackRate = rate;
    const loop = ($("#loop input") || {}).checked;
    if (v.paused) return;
    if (loop && (v.currentTime >= b.end - 0.04 || v.currentTime < b.start - 0.5)) {
      v.currentTime = b.start;
    } else if (!loop && (v.currentTime >= b.end || v.currentTime < b.start)) {
      // running on: the clip on screen becomes the current clip
      const clip = b.clip + Math.floor((v.currentTime - b.start) / 2);
      if (clip >= 0 && clip !== asked) {
        asked = clip;
        goto(clip, true);
      }
    }
  };
  setInterval(tick, 40);
})();
