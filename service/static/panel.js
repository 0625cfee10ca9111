// The source panel: the whole section around a cited passage, with the quote highlighted.
// A side column on wide screens, a drawer over the page on narrow ones.

import { getJSON } from "./api.js";
import { h, highlighted, quoteRanges } from "./dom.js";

const NARROW = window.matchMedia("(max-width: 1099px)");

export function createPanel() {
  const panel = document.getElementById("source-panel");
  const title = document.getElementById("source-title");
  const meta = document.getElementById("source-meta");
  const body = document.getElementById("source-body");
  const backdrop = document.getElementById("panel-backdrop");
  const closeButton = document.getElementById("source-close");
  const cache = new Map();
  let opener = null;
  let current = 0;

  function setModal() {
    const narrow = NARROW.matches;
    if (narrow) {
      panel.setAttribute("role", "dialog");
      panel.setAttribute("aria-modal", "true");
    } else {
      panel.removeAttribute("role");
      panel.removeAttribute("aria-modal");
    }
    backdrop.hidden = panel.hidden || !narrow;
  }
  NARROW.addEventListener("change", setModal);

  function close() {
    if (panel.hidden) return;
    panel.hidden = true;
    backdrop.hidden = true;
    document.body.classList.remove("panel-open");
    current += 1;
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  }

  closeButton.addEventListener("click", close);
  backdrop.addEventListener("click", close);
  document.addEventListener("keydown", (ev) => {
    if (panel.hidden) return;
    if (ev.key === "Escape") close();
    else if (ev.key === "Tab" && NARROW.matches) keepFocusInside(ev);
  });

  // As a drawer the panel is modal: Tab cycles through its own controls only.
  function keepFocusInside(ev) {
    const stops = [...panel.querySelectorAll("button, [href], [tabindex]:not([tabindex='-1'])")].filter(
      (el) => !el.disabled && el.getClientRects().length,
    );
    if (!stops.length) return;
    const first = stops[0];
    const last = stops[stops.length - 1];
    const inside = panel.contains(document.activeElement);
    if (ev.shiftKey && (!inside || document.activeElement === first || document.activeElement === title)) {
      ev.preventDefault();
      last.focus();
    } else if (!ev.shiftKey && (!inside || document.activeElement === last)) {
      ev.preventDefault();
      first.focus();
    }
  }

  function paragraph(p, targetId, quote) {
    const isTarget = p.passage_id === targetId;
    const ranges = isTarget ? quoteRanges(p.text, quote) : [];
    return h(
      "p",
      { class: isTarget ? "src-p is-target" : "src-p", dataset: { pid: p.passage_id } },
      highlighted(p.text, ranges, "quote source-quote"),
    );
  }

  function render(data, targetId, quote) {
    const passage = data.passage || {};
    title.textContent = data.doc_title || passage.doc_title || "原文";
    meta.textContent = `版本日期：${data.version_date || "文件未注明"}`;
    const section = data.section_passages && data.section_passages.length ? data.section_passages : [passage];
    const inSection = new Set(section.map((p) => p.passage_id));
    const before = ((data.neighbours && data.neighbours.before) || []).filter((p) => !inSection.has(p.passage_id));
    const after = ((data.neighbours && data.neighbours.after) || []).filter((p) => !inSection.has(p.passage_id));
    const context = (label, items) =>
      items.length
        ? h("div", { class: "src-context" }, h("p", { class: "src-label" }, label), items.map((p) => h("div", { class: "src-neighbour" }, p.section ? h("p", { class: "src-section small" }, p.section) : null, paragraph(p, null, ""))))
        : null;
    body.replaceChildren(
      context("上文", before),
      h(
        "section",
        { class: "src-main", "aria-label": "所在章节" },
        h("p", { class: "src-section" }, passage.section || "（无章节）"),
        section.map((p) => paragraph(p, targetId, quote)),
      ),
      context("下文", after),
    );
    const target = body.querySelector(".source-quote") || body.querySelector(".is-target");
    if (target) target.scrollIntoView({ block: "center" });
  }

  async function open(passageId, quote, from) {
    if (!passageId) return;
    opener = from || opener;
    const token = ++current;
    panel.hidden = false;
    document.body.classList.add("panel-open");
    setModal();
    title.textContent = "原文";
    meta.textContent = "";
    body.replaceChildren(h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), "正在加载原文…"));
    title.focus({ preventScroll: true });
    try {
      let data = cache.get(passageId);
      if (!data) {
        data = await getJSON(`/api/passages/${encodeURIComponent(passageId)}`);
        cache.set(passageId, data);
      }
      if (token !== current) return;
      render(data, passageId, quote || "");
    } catch (err) {
      if (token !== current) return;
      body.replaceChildren(
        h(
          "div",
          { class: "error-box", role: "alert" },
          h("p", {}, `无法加载原文：${err.message}`),
          h("button", { type: "button", class: "btn btn-small", onclick: () => open(passageId, quote, null) }, "重试"),
        ),
      );
    }
  }

  return { open, close };
}
