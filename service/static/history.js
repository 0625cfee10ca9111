// Conversation history in localStorage, and a turn as plain text for pasting into a report.

const STORE = "planqa.history.v1";
const MAX_TURNS = 50;

function isTurn(t) {
  return t && typeof t === "object" && typeof t.question === "string" && t.payload && typeof t.payload === "object";
}

export function loadHistory() {
  try {
    const list = JSON.parse(localStorage.getItem(STORE) || "[]");
    return Array.isArray(list) ? list.filter(isTurn).map((t) => ({ ...t, status: "done" })) : [];
  } catch {
    return [];
  }
}

/** Keep finished turns only; when storage is full, drop the oldest until the rest fit. */
export function saveHistory(turns) {
  let kept = turns
    .filter((t) => t.status === "done" && t.payload)
    .slice(-MAX_TURNS)
    .map(({ id, question, askedAt, answer, payload, feedback }) => ({ id, question, askedAt, answer, payload, feedback }));
  while (kept.length) {
    try {
      localStorage.setItem(STORE, JSON.stringify(kept));
      return true;
    } catch {
      kept = kept.slice(Math.ceil(kept.length / 2));
    }
  }
  localStorage.removeItem(STORE);
  return false;
}

export function clearHistory() {
  localStorage.removeItem(STORE);
}

function sourceLine(c, label) {
  const where = [c.doc_title ? `《${c.doc_title}》` : "", c.section].filter(Boolean).join(" ");
  const quote = (c.quote || c.text || "").trim();
  return `${label} ${where}${quote ? `：“${quote}”` : ""}`;
}

/** The turn as text: question, answer with its [n] markers, targets, and the cited sources. */
export function turnAsText(turn) {
  const p = turn.payload || {};
  const lines = [`问：${turn.question}`];
  if (p.abstained) lines.push(`答：文件中未找到。${turn.answer ? turn.answer : ""}`.trim());
  else lines.push(`答：${turn.answer || ""}`);
  const targets = p.targets || [];
  if (targets.length) {
    lines.push("", "目标任务：");
    targets.forEach((t, i) => {
      const value = [t.value, t.unit].filter(Boolean).join(" ");
      const extra = [t.year && `${t.year}年`, t.attribute, t.baseline && t.baseline !== "-" && `基准 ${t.baseline}`]
        .filter(Boolean)
        .join("，");
      lines.push(`${i + 1}. ${t.what}：${value}${extra ? `（${extra}）` : ""}${t.section ? `——出处：${t.section}` : ""}`);
    });
  }
  const citations = p.citations || [];
  if (citations.length && !p.abstained) {
    lines.push("", "出处：");
    citations.forEach((c) => lines.push(sourceLine(c, `[${c.n}]`)));
  }
  const related = p.abstained ? [...(p.related || []), ...citations] : p.related || [];
  if (related.length) {
    lines.push("", "相关内容（不能直接回答该问题）：");
    related.forEach((c, i) => lines.push(sourceLine(c, `${i + 1}.`)));
  }
  return lines.join("\n");
}

/** Copy text; falls back to a hidden textarea where the Clipboard API is unavailable
 *  (plain http on a LAN address is not a secure context). */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // fall through to the legacy path
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}
