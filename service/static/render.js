// Building one conversation turn: question, answer with [n] markers, targets, citation cards.

import { answerTokens, excerpt, h, highlighted, quoteRanges } from "./dom.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function thumbIcon(down) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", down ? "icon icon-down" : "icon");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute(
    "d",
    "M2 10h4v11H2z M8 21h9.2a2 2 0 0 0 2-1.6l1.4-7A2 2 0 0 0 18.6 10H14l.9-4.4A1.8 1.8 0 0 0 11.8 4L8 10z",
  );
  svg.append(path);
  return svg;
}

function lastHeading(section) {
  const parts = (section || "").split(">").map((s) => s.trim()).filter(Boolean);
  return parts.length ? parts[parts.length - 1] : "";
}

// ------------------------------------------------------------ answer text

function answerText(text, citations, onMarker) {
  const byN = new Map(citations.map((c) => [c.n, c]));
  const el = h("div", { class: "answer-text" });
  for (const token of answerTokens(text)) {
    if (token.kind === "text") {
      el.append(document.createTextNode(token.text));
      continue;
    }
    const known = token.numbers.filter((n) => byN.has(n));
    if (!known.length) {
      el.append(document.createTextNode(token.raw));
      continue;
    }
    for (const n of known) {
      const c = byN.get(n);
      el.append(
        h(
          "button",
          {
            type: "button",
            class: "marker",
            dataset: { n: String(n) },
            title: `${c.doc_title} · ${c.section}`,
            "aria-label": `出处 ${n}：${c.doc_title}`,
            onclick: (ev) => onMarker(c, ev.currentTarget),
          },
          `[${n}]`,
        ),
      );
    }
  }
  return el;
}

// ------------------------------------------------------------ citation cards

export function citationCard(c, onOpen, label = null) {
  const ranges = quoteRanges(c.text, c.quote);
  const cut = excerpt(c.text, ranges);
  return h(
    "li",
    {},
    h(
      "button",
      { type: "button", class: "card", dataset: { n: String(c.n), pid: c.passage_id }, onclick: (ev) => onOpen(c, ev.currentTarget) },
      h("span", { class: "card-head" }, h("span", { class: "card-n" }, label ?? `[${c.n}]`), h("span", { class: "card-doc" }, c.doc_title)),
      h("span", { class: "card-section" }, c.section || "（无章节）"),
      h("span", { class: "card-text" }, cut.cutStart ? "…" : "", highlighted(cut.text, cut.ranges), cut.cutEnd ? "…" : ""),
      h("span", { class: "card-open", "aria-hidden": "true" }, "查看原文 →"),
    ),
  );
}

function cardList(items, onOpen, kind) {
  return h("ol", { class: `cards cards-${kind}` }, items.map((c, i) => citationCard(c, onOpen, kind === "related" ? `${i + 1}` : null)));
}

// ------------------------------------------------------------ targets table

const TARGET_COLUMNS = ["指标", "目标值", "年份", "属性", "出处"];
const TARGETS_SHOWN = 10;

function targetsTable(payload, onOpen) {
  const targets = payload.targets || [];
  const scope = [payload.county, payload.zone && `（${payload.zone}）`, payload.sector].filter(Boolean).join(" ");
  const rows = targets.map((t) => {
    const value = [t.value, t.unit].filter(Boolean).join(" ");
    const scopeNote = [t.scope && t.scope !== "全市" ? `适用范围：${t.scope}` : "", t.why].filter(Boolean).join("；");
    const source = t.passage_id
      ? h(
          "button",
          {
            type: "button",
            class: "link-button",
            title: t.section,
            onclick: (ev) => onOpen({ passage_id: t.passage_id, quote: t.quote, section: t.section }, ev.currentTarget),
          },
          lastHeading(t.section) || "查看原文",
        )
      : h("span", { class: "muted" }, t.section || "—");
    return h(
      "tr",
      {},
      h("td", { "data-label": "指标" }, h("span", { class: "target-what" }, t.what), scopeNote ? h("small", {}, scopeNote) : null),
      h("td", { "data-label": "目标值" }, h("strong", {}, value || "—"), t.baseline && t.baseline !== "-" ? h("small", {}, `基准：${t.baseline}`) : null),
      h("td", { "data-label": "年份" }, t.year || "—"),
      h("td", { "data-label": "属性" }, t.attribute ? h("span", { class: `badge badge-${t.attribute === "约束性" ? "hard" : "soft"}` }, t.attribute) : "—"),
      h("td", { "data-label": "出处" }, source),
    );
  });
  // Long lists (a county can have dozens of targets) start folded so the answer stays in view.
  rows.slice(TARGETS_SHOWN).forEach((r) => (r.hidden = true));
  const more =
    rows.length > TARGETS_SHOWN
      ? h("button", { type: "button", class: "btn btn-small btn-quiet targets-more", "aria-expanded": "false" }, `显示全部 ${rows.length} 项`)
      : null;
  if (more) {
    more.addEventListener("click", () => {
      const open = more.getAttribute("aria-expanded") !== "true";
      rows.slice(TARGETS_SHOWN).forEach((r) => (r.hidden = !open));
      more.setAttribute("aria-expanded", String(open));
      more.textContent = open ? `只显示前 ${TARGETS_SHOWN} 项` : `显示全部 ${rows.length} 项`;
    });
  }
  return h(
    "div",
    { class: "targets", role: "region", tabindex: "0", "aria-label": "目标任务表" },
    h(
      "table",
      {},
      h("caption", {}, `目标任务（${targets.length} 项）`, scope ? ` · 适用于 ${scope}` : ""),
      h("thead", {}, h("tr", {}, TARGET_COLUMNS.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows),
    ),
    more,
  );
}

// ------------------------------------------------------------ feedback

function feedbackWidget(turn, actions) {
  const box = h("div", { class: "feedback", role: "group", "aria-label": "评价此回答" });
  const status = h("p", { class: "feedback-status", role: "status" });
  const comment = h("textarea", { class: "feedback-comment", maxlength: "2000", rows: "2", "aria-label": "补充说明（可选）", placeholder: "补充说明（可选，最多 2000 字）" });
  const send = h("button", { type: "submit", class: "btn btn-small btn-primary" }, "提交评价");
  const cancel = h("button", { type: "button", class: "btn btn-small btn-quiet" }, "取消");
  const form = h("form", { class: "feedback-form", hidden: true }, comment, h("div", { class: "row" }, send, cancel));
  let rating = null;
  const thumbs = ["up", "down"].map((r) =>
    h(
      "button",
      { type: "button", class: `thumb thumb-${r}`, "aria-pressed": "false", "aria-label": r === "up" ? "有帮助" : "没有帮助", title: r === "up" ? "有帮助" : "没有帮助" },
      thumbIcon(r === "down"),
    ),
  );
  const lock = (fb) => {
    thumbs.forEach((b, i) => {
      b.disabled = true;
      b.setAttribute("aria-pressed", String(["up", "down"][i] === fb.rating));
    });
    form.hidden = true;
    status.textContent = fb.comment ? `已记录评价和说明，谢谢！` : "已记录评价，谢谢！";
  };
  thumbs.forEach((b, i) =>
    b.addEventListener("click", () => {
      rating = ["up", "down"][i];
      thumbs.forEach((t, j) => t.setAttribute("aria-pressed", String(i === j)));
      form.hidden = false;
      status.textContent = "";
      comment.focus();
    }),
  );
  cancel.addEventListener("click", () => {
    rating = null;
    thumbs.forEach((t) => t.setAttribute("aria-pressed", "false"));
    form.hidden = true;
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!rating) return;
    send.disabled = true;
    status.textContent = "正在提交…";
    try {
      const fb = await actions.feedback(turn, rating, comment.value.trim());
      lock(fb);
    } catch (err) {
      status.textContent = `提交失败：${err.message}`;
    } finally {
      send.disabled = false;
    }
  });
  box.append(h("span", { class: "feedback-label" }, "有帮助吗？"), ...thumbs, form, status);
  if (turn.feedback) lock(turn.feedback);
  return box;
}

// ------------------------------------------------------------ the turn

const STATUS_TEXT = { pending: "正在检索规划和法规条文…", streaming: "已找到出处，正在组织回答…" };

function answerSection(turn, actions) {
  const p = turn.payload || {};
  const section = h("section", { class: "answer", "aria-label": "回答" });
  if (turn.status === "pending" || turn.status === "streaming") {
    section.append(h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), STATUS_TEXT[turn.status]));
  }
  if (turn.status === "error") {
    section.append(
      h(
        "div",
        { class: "error-box", role: "alert" },
        h("p", {}, turn.error || "出错了。"),
        h("button", { type: "button", class: "btn btn-small", onclick: () => actions.retry(turn) }, "重试"),
      ),
    );
    return section;
  }
  if (!turn.payload) return section;
  const citations = p.citations || [];
  const related = p.related || [];
  if (p.abstained) {
    section.append(
      h(
        "div",
        { class: "abstain" },
        h("p", { class: "abstain-title" }, h("span", { class: "abstain-icon", "aria-hidden": "true" }, "∅"), "文件中未找到"),
        h("p", { class: "abstain-text" }, turn.answer || "规划和法规中没有能直接回答这个问题的内容。"),
      ),
    );
  } else if (turn.answer) {
    section.append(answerText(turn.answer, citations, actions.openCitation));
  }
  if ((p.targets || []).length) section.append(targetsTable(p, actions.openCitation));
  if (!p.abstained && citations.length) {
    section.append(h("h3", { class: "cards-title" }, `出处（${citations.length}）`), cardList(citations, actions.openCitation, "cite"));
  }
  const seen = new Set();
  const relatedShown = (p.abstained ? [...related, ...citations] : related).filter((c) => !seen.has(c.passage_id) && seen.add(c.passage_id));
  if (relatedShown.length) {
    section.append(
      h("h3", { class: "cards-title related-title" }, `相关内容（${relatedShown.length}）`),
      h("p", { class: "muted small" }, "以下条文与问题相关，但不能直接回答它，仅供参考。"),
      cardList(relatedShown, actions.openCitation, "related"),
    );
  }
  if (turn.status === "done") {
    const copy = h("button", { type: "button", class: "btn btn-small btn-quiet copy-turn", onclick: (ev) => actions.copy(turn, ev.currentTarget) }, "复制文本");
    const meta = typeof p.took_ms === "number" ? h("span", { class: "took muted small" }, `用时 ${(p.took_ms / 1000).toFixed(2)} 秒`) : null;
    section.append(h("div", { class: "turn-actions" }, copy, feedbackWidget(turn, actions), meta));
  }
  return section;
}

/** The <li> of one turn; call again and replace the old node when the turn changes. */
export function renderTurn(turn, actions) {
  const asked = turn.askedAt ? new Date(turn.askedAt) : null;
  return h(
    "li",
    { class: "turn", id: `turn-${turn.id}`, dataset: { status: turn.status, abstained: String(Boolean(turn.payload && turn.payload.abstained)) } },
    h(
      "div",
      { class: "question" },
      h("span", { class: "role", "aria-hidden": "true" }, "问"),
      h("p", { class: "question-text" }, turn.question),
      asked && !Number.isNaN(asked.getTime())
        ? h("time", { datetime: turn.askedAt, class: "muted small" }, asked.toLocaleString("zh-CN", { hour12: false }))
        : null,
    ),
    answerSection(turn, actions),
  );
}
