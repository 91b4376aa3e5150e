/* Stepwise: the little a page needs on a phone. Pages work without it. */
"use strict";

/* The menu button folds and unfolds the navigation on narrow screens. */
function foldMenu() {
  const toggle = document.querySelector(".menu-toggle");
  if (!toggle) return;
  const bar = toggle.closest(".topbar");
  toggle.addEventListener("click", () => {
    const open = bar.classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && bar.classList.contains("open")) {
      bar.classList.remove("open");
      toggle.setAttribute("aria-expanded", "false");
      toggle.focus();
    }
  });
}

/* Each cell learns its column's heading, so that a narrow screen can show a row as a card
   ("Due date: 2 March") instead of squeezing every column to one character. Tables that must
   keep their columns say so with class "keep-table" (a month, the numbers beside a chart). */
function cardTables() {
  for (const table of document.querySelectorAll("main table")) {
    if (table.matches(".keep-table, .numbers") || !table.tHead) continue;
    const headRow = table.tHead.rows[table.tHead.rows.length - 1];
    if (!headRow) continue;
    const headings = [];
    for (const th of headRow.cells) {
      for (let i = 0; i < th.colSpan; i++) headings.push(th.textContent.trim());
    }
    if (headings.length < 3) continue;
    for (const section of [...table.tBodies, table.tFoot].filter(Boolean)) {
      for (const row of section.rows) {
        let column = 0;
        for (const cell of row.cells) {
          const heading = headings[column];
          if (heading && !cell.hasAttribute("data-label") && cell.colSpan === 1) {
            cell.setAttribute("data-label", heading);
          }
          column += cell.colSpan;
          const parts = [...cell.childNodes].filter(
            (node) => node.nodeType !== Node.TEXT_NODE || node.textContent.trim());
          if (parts.length > 1) {  /* one grid item beside the heading, not one per part */
            const value = document.createElement("div");
            value.className = "cell-value";
            value.append(...cell.childNodes);
            cell.append(value);
          }
        }
      }
    }
    table.classList.add("cards");
  }
}

/* A diagram wider than the screen scrolls inside its box: start with the current step in
   view (or the middle, where the main path runs). */
function centreDiagrams() {
  for (const box of document.querySelectorAll(".diagram")) {
    if (box.scrollWidth <= box.clientWidth) continue;
    const current = box.querySelector(".current");
    const target = current
      ? current.getBoundingClientRect().left - box.getBoundingClientRect().left + box.scrollLeft
        + current.getBoundingClientRect().width / 2
      : box.scrollWidth / 2;
    box.scrollLeft = Math.max(0, target - box.clientWidth / 2);
  }
}

/* A file field in the page's language: the browser's own button and "No file chosen" speak
   the browser's language, not the reader's (a Chinese page showed "Choose Files"). The input
   stays in the form, hidden but focusable; a button in the page's words opens it. */
function fileFields() {
  for (const input of document.querySelectorAll("input[type=file][data-choose]")) {
    const pick = document.createElement("button");
    pick.type = "button";
    pick.className = "file-pick";
    pick.textContent = input.dataset.choose;
    const names = document.createElement("span");
    names.className = "file-names";
    names.setAttribute("aria-live", "polite");
    const show = () => {
      const files = [...input.files].map((file) => file.name);
      names.textContent = files.length ? files.join(", ") : input.dataset.none;
    };
    show();
    pick.addEventListener("click", () => input.click());
    input.addEventListener("change", show);
    input.classList.add("visually-hidden");
    input.tabIndex = -1;
    const row = document.createElement("div");
    row.className = "file-row";
    row.append(pick, names);
    input.after(row);
  }
}

/* Long tables (a chart's daily figures) start folded on a phone, under a summary that says what
   they hold and their latest line; wider screens, and pages without this script, show them. */
function foldOnPhones() {
  if (!window.matchMedia("(max-width: 640px)").matches) return;
  for (const details of document.querySelectorAll("details.fold-on-phone")) details.open = false;
}

foldMenu();
foldOnPhones();
cardTables();
centreDiagrams();
fileFields();
