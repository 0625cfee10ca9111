// The chat page: composer, quick starts, conversation state, history and the key prompt.

import { askStream, getJSON, postJSON, setKeyPrompt } from "./api.js";
import { h } from "./dom.js";
import { clearHistory, copyText, loadHistory, saveHistory, turnAsText } from "./history.js";
import { createPanel } from "./panel.js";
import { renderTurn } from "./render.js";

const EXAMPLES = [
  "到2025年廊坊市建成区PM2.5浓度要降到多少？",
  "城市空气质量优良天数比率的目标是多少？",
  "三河市要完成哪些目标任务？",
  "涂装企业有哪些挥发性有机物治理要求？",
  "农村生活污水治理率要达到多少？",
  "重污染天气应对有哪些措施？",
  "企业超标排放大气污染物会受到什么处罚？",
  "南部优化发展区的发展重点是什么？",
];

const $ = (id) => document.getElementById(id);
const form = $("ask-form");
const input = $("question");
const askButton = $("ask-button");
const list = $("turns");
const empty = $("empty-state");
const clearButton = $("clear-history");
const status = $("global-status");
const countyPicker = $("county-picker");
const sectorPicker = $("sector-picker");

const panel = createPanel();
let turns = loadHistory();
let busy = false;
let statusTimer = 0;

function announce(message, sticky = false) {
  clearTimeout(statusTimer);
  status.textContent = message;
  if (!sticky) statusTimer = setTimeout(() => (status.textContent = ""), 5000);
}

// ------------------------------------------------------------ rendering

const actions = {
  openCitation: (c, from) => panel.open(c.passage_id, c.quote, from),
  copy: async (turn, button) => {
    const ok = await copyText(turnAsText(turn));
    announce(ok ? "已复制问答及出处，可直接粘贴到报告中。" : "复制失败，请手动选择文本复制。");
    if (ok && button) {
      button.textContent = "已复制";
      setTimeout(() => (button.textContent = "复制文本"), 2000);
    }
  },
  feedback: async (turn, rating, comment) => {
    const p = turn.payload || {};
    const passageIds = [...(p.citations || []), ...(p.related || [])].map((c) => c.passage_id);
    const body = { question: turn.question, answer: turn.answer || "", rating, comment, passage_ids: passageIds.slice(0, 50) };
    const saved = await postJSON("/api/feedback", body);
    turn.feedback = { id: saved.id, rating, comment };
    saveHistory(turns);
    return turn.feedback;
  },
  retry: (turn) => runTurn(turn),
};

function updateChrome() {
  empty.hidden = turns.length > 0;
  clearButton.disabled = turns.length === 0 && !busy;
  askButton.disabled = busy;
  askButton.textContent = busy ? "回答中…" : "提问";
}

function draw(turn) {
  const node = renderTurn(turn, actions);
  const old = document.getElementById(`turn-${turn.id}`);
  if (old) old.replaceWith(node);
  else list.append(node);
  return node;
}

function drawAll() {
  list.replaceChildren(...turns.map((t) => renderTurn(t, actions)));
  updateChrome();
}

// ------------------------------------------------------------ asking

function newId() {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
}

// While an answer arrives, keep its question at the top of the view until the reader scrolls.
let follow = false;
for (const type of ["wheel", "touchmove"]) window.addEventListener(type, () => (follow = false), { passive: true });
window.addEventListener("keydown", (ev) => {
  if (["PageUp", "PageDown", "ArrowUp", "ArrowDown", "Home", "End"].includes(ev.key) && ev.target === document.body) follow = false;
});

function reveal(node) {
  if (follow) node.scrollIntoView({ block: "start" });
}

async function runTurn(turn) {
  busy = true;
  follow = true;
  Object.assign(turn, { status: "pending", payload: null, answer: "", error: "" });
  updateChrome();
  reveal(draw(turn));
  try {
    const payload = await askStream({ question: turn.question }, {
      citations: (head) => {
        turn.status = "streaming";
        turn.payload = head;
        reveal(draw(turn));
      },
      answer: (text) => {
        turn.answer = text;
        draw(turn);
      },
    });
    Object.assign(turn, { status: "done", payload, answer: payload.answer || "" });
  } catch (err) {
    Object.assign(turn, { status: "error", error: err.message || String(err) });
  }
  busy = false;
  reveal(draw(turn));
  follow = false;
  saveHistory(turns);
  updateChrome();
}

function ask(question) {
  const text = question.trim();
  if (!text) {
    announce("请输入问题。");
    input.focus();
    return;
  }
  if (text.length > 500) {
    announce(`问题有 ${text.length} 字，最多 500 字。`);
    return;
  }
  if (busy) {
    announce("上一个问题还在回答中，请稍候。");
    return;
  }
  const turn = { id: newId(), question: text, askedAt: new Date().toISOString(), status: "pending" };
  turns.push(turn);
  input.value = "";
  updateCount();
  runTurn(turn);
}

// ------------------------------------------------------------ composer and quick starts

function updateCount() {
  $("char-count").textContent = String(input.value.trim().length);
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  ask(input.value);
});
input.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    ask(input.value);
  }
});
input.addEventListener("input", updateCount);

function fillQuestion(text) {
  input.value = text;
  updateCount();
  input.focus();
  input.setSelectionRange(text.length, text.length);
}

// "涂装企业有哪些要求？" reads well for industries; sources such as 柴油货车 or 燃煤锅炉 take no 企业.
const NOT_AN_INDUSTRY = /(企业|行业|单位|车|机械|锅炉|窑|站|源|园区|厂|机构|施工|种植|地下水|废物|化学品|处理|回收)$/;

function sectorQuestion(sector) {
  return NOT_AN_INDUSTRY.test(sector) ? `${sector}有哪些要求？` : `${sector}企业有哪些要求？`;
}

countyPicker.addEventListener("change", () => {
  if (countyPicker.value) fillQuestion(`${countyPicker.value}要完成哪些目标任务？`);
  countyPicker.value = "";
});
sectorPicker.addEventListener("change", () => {
  if (sectorPicker.value) fillQuestion(sectorQuestion(sectorPicker.value));
  sectorPicker.value = "";
});

function fillPickers(vocab) {
  const counties = Array.isArray(vocab.counties) ? vocab.counties : [];
  const zones = vocab.zones && typeof vocab.zones === "object" ? vocab.zones : {};
  const placed = new Set();
  for (const [zone, members] of Object.entries(zones)) {
    const inZone = (Array.isArray(members) ? members : []).filter((c) => counties.includes(c));
    if (!inZone.length) continue;
    inZone.forEach((c) => placed.add(c));
    countyPicker.append(h("optgroup", { label: zone }, inZone.map((c) => h("option", { value: c }, c))));
  }
  counties.filter((c) => !placed.has(c)).forEach((c) => countyPicker.append(h("option", { value: c }, c)));
  (Array.isArray(vocab.sectors) ? vocab.sectors : []).forEach((s) => sectorPicker.append(h("option", { value: s }, s)));
  countyPicker.disabled = counties.length === 0;
  sectorPicker.disabled = sectorPicker.options.length <= 1;
}

async function loadVocab() {
  try {
    fillPickers(await getJSON("/api/vocab"));
  } catch (err) {
    announce(`无法加载县（市、区）和行业列表：${err.message}`, true);
  }
}

$("examples").replaceChildren(
  ...EXAMPLES.map((q) => h("li", {}, h("button", { type: "button", class: "example", onclick: () => ask(q) }, q))),
);

// ------------------------------------------------------------ clearing history

let confirmTimer = 0;
clearButton.addEventListener("click", () => {
  if (clearButton.dataset.confirm !== "yes") {
    clearButton.dataset.confirm = "yes";
    clearButton.textContent = "确认清空？";
    confirmTimer = setTimeout(() => {
      delete clearButton.dataset.confirm;
      clearButton.textContent = "清空记录";
    }, 5000);
    return;
  }
  clearTimeout(confirmTimer);
  delete clearButton.dataset.confirm;
  clearButton.textContent = "清空记录";
  turns = turns.filter((t) => t.status === "pending" || t.status === "streaming");
  clearHistory();
  panel.close();
  drawAll();
  announce("对话记录已清空。");
  input.focus();
});

// ------------------------------------------------------------ API key prompt

const keyDialog = $("key-dialog");
const keyReasonDefault = $("key-reason").textContent;
setKeyPrompt(
  (reason) =>
    new Promise((resolve) => {
      const keyInput = $("key-input");
      keyInput.value = "";
      $("key-reason").textContent = reason || keyReasonDefault;
      const done = (value) => {
        keyDialog.removeEventListener("close", onClose);
        resolve(value);
      };
      const onClose = () => done(keyDialog.returnValue === "cancel" ? null : keyInput.value);
      keyDialog.addEventListener("close", onClose);
      keyDialog.oncancel = () => (keyDialog.returnValue = "cancel"); // Esc means no key, not the half-typed one
      $("key-cancel").onclick = () => keyDialog.close("cancel");
      keyDialog.returnValue = "";
      keyDialog.showModal();
      keyInput.focus();
    }),
);

// ------------------------------------------------------------ start

drawAll();
if (turns.length) list.lastElementChild.scrollIntoView({ block: "start" });
loadVocab();
