// DOM helpers. Every string from the server reaches the page through text nodes created here;
// nothing in this app assigns markup strings, so a passage containing <script> stays text.

/** Create an element. attrs: class, dataset, aria/other attributes, on* listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = String(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Append children: strings and numbers become text nodes, arrays are flattened. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

// ------------------------------------------------------------ quote highlighting

function squeeze(s) {
  const chars = [];
  const index = [];
  for (let i = 0; i < s.length; i++) {
    if (!/\s/.test(s[i])) {
      chars.push(s[i]);
      index.push(i);
    }
  }
  return { str: chars.join(""), index };
}

function findSqueezed(text, needle) {
  const t = squeeze(text);
  const n = squeeze(needle).str;
  if (!n) return null;
  const at = t.str.indexOf(n);
  if (at < 0) return null;
  return [t.index[at], t.index[at + n.length - 1] + 1];
}

/** Character ranges of `quote` inside `text`, tolerant of whitespace and of quotes that
 *  join several sentences that are not adjacent in the passage. */
export function quoteRanges(text, quote) {
  if (!text || !quote || !quote.trim()) return [];
  const exact = text.indexOf(quote);
  if (exact >= 0) return [[exact, exact + quote.length]];
  const loose = findSqueezed(text, quote);
  if (loose) return [loose];
  const ranges = [];
  for (const sentence of quote.split(/(?<=[。！？；])/)) {
    if (sentence.trim().length < 4) continue;
    const r = findSqueezed(text, sentence);
    if (r) ranges.push(r);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  return ranges.filter((r, i) => i === 0 || r[0] >= ranges[i - 1][1]);
}

/** Text with the given ranges wrapped in <mark>. */
export function highlighted(text, ranges, markClass = "quote") {
  const frag = document.createDocumentFragment();
  let pos = 0;
  for (const [start, end] of ranges) {
    if (start > pos) frag.append(document.createTextNode(text.slice(pos, start)));
    frag.append(h("mark", { class: markClass }, text.slice(start, end)));
    pos = end;
  }
  if (pos < text.length) frag.append(document.createTextNode(text.slice(pos)));
  return frag;
}

/** A window of a long passage around its first highlighted range, with ellipses. */
export function excerpt(text, ranges, maxLen = 220, context = 70) {
  if (text.length <= maxLen) return { text, ranges, cutStart: false, cutEnd: false };
  let start = 0;
  let end = maxLen;
  if (ranges.length) {
    const [first] = ranges;
    start = Math.max(0, first[0] - context);
    end = Math.min(text.length, Math.max(first[1] + context, start + maxLen));
  }
  const shifted = ranges
    .filter(([a, b]) => b > start && a < end)
    .map(([a, b]) => [Math.max(a, start) - start, Math.min(b, end) - start]);
  return { text: text.slice(start, end), ranges: shifted, cutStart: start > 0, cutEnd: end < text.length };
}

// ------------------------------------------------------------ answer markers

const MARKER = /\[(\d+(?:\s*[,，、]\s*\d+)*)\]/g;

/** Split an answer into text and [n] marker tokens. */
export function answerTokens(answer) {
  const tokens = [];
  let pos = 0;
  for (const m of answer.matchAll(MARKER)) {
    if (m.index > pos) tokens.push({ kind: "text", text: answer.slice(pos, m.index) });
    tokens.push({ kind: "marker", raw: m[0], numbers: m[1].split(/\s*[,，、]\s*/).map(Number) });
    pos = m.index + m[0].length;
  }
  if (pos < answer.length) tokens.push({ kind: "text", text: answer.slice(pos) });
  return tokens;
}
