// The demo page's keyboard shortcuts and plot-click seeking (loaded through launch(head=...)).
// space: play / pause the player; n / p: next / previous highlight span (in film order);
// a click on the score curve moves the player there.
(() => {
  const player = () => document.querySelector("#player video");
  const spanStarts = () => {
    const el = document.querySelector("#span-starts textarea, #span-starts input");
    try {
      return JSON.parse((el && el.value) || "[]").map(Number).sort((a, b) => a - b);
    } catch (e) {
      return [];
    }
  };
  const seek = (t) => {
    const v = player();
    if (v && Number.isFinite(t)) v.currentTime = t;
  };
  document.addEventListener("keydown", (e) => {
    const t = e.target || {};
    const tag = t.tagName || "";
    if (["INPUT", "TEXTAREA", "SELECT", "VIDEO"].includes(tag) || t.isContentEditable) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const v = player();
    if (!v) return;
    if (e.key === " ") {
      e.preventDefault();
      if (v.paused) v.play(); else v.pause();
    } else if (e.key === "n" || e.key === "p") {
      const starts = spanStarts();
      const now = v.currentTime;
      const target = e.key === "n"
        ? starts.find((s) => s > now + 0.25)
        : starts.filter((s) => s < now - 0.75).pop();
      if (target !== undefined) {
        e.preventDefault();
        seek(target);
      }
    }
  });
  const attach = () => {
    document.querySelectorAll("#score-plot .js-plotly-plot").forEach((plot) => {
      if (plot.dataset.tvhClick || typeof plot.on !== "function") return;
      plot.dataset.tvhClick = "1";
      plot.on("plotly_click", (ev) => {
        if (ev && ev.points && ev.points.length) seek(Number(ev.points[0].x));
      });
    });
  };
  new MutationObserver(attach).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });
})();
