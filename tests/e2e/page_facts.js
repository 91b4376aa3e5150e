/* What tests/e2e/test_whole_site_on_a_phone.py measures on each page, in one evaluation. */
() => {
  const visible = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + (typeof e.className === "string" && e.className ? "." + e.className.split(" ").join(".") : "");

  /* Elements sticking out of the window, when the page scrolls sideways. */
  const scroll = document.documentElement.scrollWidth;
  const wide = scroll <= window.innerWidth ? [] : Array.from(document.querySelectorAll("main *, header *"))
    .filter((e) => visible(e) && e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 5).map(name);

  /* Controls a finger must hit: at least 44 px tall (check boxes count by their label). */
  const small = Array.from(document.querySelectorAll(
    "button, a.button, select, textarea, summary, .topbar a, "
    + "input:not([type=hidden]):not([type=checkbox]):not([type=radio])"))
    .filter((e) => visible(e) && e.getBoundingClientRect().height < 44
                   && !e.closest(".visually-hidden"))
    .slice(0, 5)
    .map((e) => `${e.tagName.toLowerCase()} "${(e.innerText || e.name || "").trim().slice(0, 20)}"`
                + ` ${Math.round(e.getBoundingClientRect().height)}px`);

  /* Chinese words squeezed to one character per line. */
  const cramped = Array.from(document.querySelectorAll("td, th, button, label, dd, dt"))
    .filter((e) => { const r = e.getBoundingClientRect();
                     return r.width > 0 && r.width < 24 && r.height > 40
                            && /[\u4e00-\u9fff]{2,}/.test((e.innerText || "").trim()); })
    .slice(0, 5).map((e) => (e.innerText || "").trim().slice(0, 12));

  /* Charts and diagrams: text of 12 px and more, inside the picture, and bars for numbers. */
  const charts = Array.from(document.querySelectorAll("figure.chart svg, figure.diagram svg"))
    .map((svg) => {
      const box = svg.getBoundingClientRect();
      const view = svg.viewBox && svg.viewBox.baseVal;
      const scale = view && view.width ? box.width / view.width : 1;
      const tiny = [], clipped = [];
      for (const t of svg.querySelectorAll("text")) {
        const words = t.textContent.trim();
        const r = t.getBoundingClientRect();
        if (!words || !r.width) continue;
        const px = parseFloat(getComputedStyle(t).fontSize) * scale;
        if (px < 11.9) tiny.push(`${words.slice(0, 16)} ${px.toFixed(1)}px`);
        if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
            || r.bottom > box.bottom + 1) clipped.push(words.slice(0, 16));
      }
      const panel = svg.closest(".report-panel");
      const counted = panel !== null && Array.from(panel.querySelectorAll("table.numbers tbody td.num"))
        .some((td) => parseFloat(td.innerText.replace(/,/g, "")) > 0);
      const drawn = Array.from(svg.querySelectorAll(".rect, .slice, .line"))
        .some((e) => { const r = e.getBoundingClientRect(); return r.width > 0.5 && r.height > 0.5; });
      return {id: panel ? panel.id : "diagram", small: tiny.slice(0, 3),
              clipped: clipped.slice(0, 3), empty: counted && !drawn};
    });

  return {
    scroll,
    inner: window.innerWidth,
    text: document.body.innerText,
    typed: Array.from(document.querySelectorAll("code, kbd, samp")).map((e) => e.innerText),
    links: Array.from(document.querySelectorAll("a[href]")).map((a) => a.getAttribute("href")),
    wide, small, cramped, charts,
  };
}
