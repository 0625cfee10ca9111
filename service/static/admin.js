// The admin view: an official with the admin key uploads, replaces and removes documents of the
// knowledge base and watches them being indexed. The key lives in sessionStorage only (gone with
// the tab) and is sent solely as the Authorization header; it is never logged or put in the page.

import { ApiError, describeError } from "./api.js";
import { h } from "./dom.js";

const ADMIN_KEY_STORE = "planqa.adminKey";
const POLL_MS = 1500;
const STATUS_WORDS = { indexing: "索引中…", ready: "可用", failed: "失败" };
const FORMAT_WORDS = { docx: "Word", pdf: "PDF", md: "Markdown", txt: "文本" };
const TIER_WORDS = { core: "核心", reference: "参考" };

const $ = (id) => document.getElementById(id);
const view = $("admin-view");
const toggle = $("admin-toggle");
const keyForm = $("admin-key-form");
const keyInput = $("admin-key-input");
const manage = $("admin-manage");
const logout = $("admin-logout");
const errorBox = $("admin-error");
const statusLine = $("admin-status");
const rows = $("doc-rows");
const uploadForm = $("upload-form");
const uploadButton = $("upload-button");
const replaceInput = $("replace-file");

let pollTimer = 0;
let replacing = "";

const adminKey = () => sessionStorage.getItem(ADMIN_KEY_STORE) || "";

// ------------------------------------------------------------ messages

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

function say(message) {
  statusLine.textContent = message;
}

/** Words for a failed admin call; 401/403 are about the admin key, not the reader's API key. */
function explain(err) {
  if (!(err instanceof ApiError)) return `操作失败：${err && err.message ? err.message : err}`;
  if (err.status === 401) return "管理员密钥无效，请重新输入。";
  if (err.status === 403) return "此服务未配置管理员密钥（PLANQA_ADMIN_KEYS），无法管理文档。";
  return err.message;
}

// ------------------------------------------------------------ requests

async function call(method, path, body) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${adminKey()}` };
  let res;
  try {
    res = await fetch(path, { method, headers, body });
  } catch {
    throw new ApiError("无法连接服务器。请确认服务已启动、网络正常后重试。", { code: "network" });
  }
  let payload = null;
  if ((res.headers.get("content-type") || "").includes("json")) {
    try {
      payload = await res.json();
    } catch {
      payload = null;
    }
  }
  if (!res.ok) throw describeError(res.status, payload);
  return payload;
}

/** Run an admin action; a rejected key sends the official back to the key form. */
async function guarded(action) {
  try {
    return await action();
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) lock();
    showError(explain(err));
    return undefined;
  }
}

// ------------------------------------------------------------ the document list

function statusCell(doc) {
  const cell = h("td", { class: `doc-status status-${doc.status}`, dataset: { status: doc.status } }, STATUS_WORDS[doc.status] || doc.status);
  if (doc.status === "failed" && doc.reason) cell.append(h("div", { class: "doc-reason" }, doc.reason));
  return cell;
}

function removeButton(doc) {
  let timer = 0;
  const button = h("button", { type: "button", class: "btn btn-small doc-remove" }, "删除");
  button.addEventListener("click", async () => {
    if (button.dataset.confirm !== "yes") {
      button.dataset.confirm = "yes";
      button.textContent = "确认删除？";
      timer = setTimeout(() => {
        delete button.dataset.confirm;
        button.textContent = "删除";
      }, 5000);
      return;
    }
    clearTimeout(timer);
    button.disabled = true;
    const done = await guarded(() => call("DELETE", `/api/documents/${encodeURIComponent(doc.id)}`));
    if (done) say(`已删除《${doc.title}》，索引更新后将不再引用。`);
    refresh();
  });
  return button;
}

function row(doc) {
  const replace = h("button", { type: "button", class: "btn btn-small doc-replace" }, "替换");
  replace.addEventListener("click", () => {
    replacing = doc.id;
    replaceInput.value = "";
    replaceInput.click();
  });
  return h(
    "tr",
    { dataset: { docId: doc.id } },
    h("td", { class: "doc-title" }, h("div", {}, doc.title || doc.id), h("div", { class: "doc-id muted" }, doc.id)),
    h("td", {}, FORMAT_WORDS[doc.format] || doc.format || ""),
    h("td", { class: "doc-tier", dataset: { tier: doc.tier || "core" } }, TIER_WORDS[doc.tier] || TIER_WORDS.core),
    h("td", {}, String(doc.version ?? "")),
    h("td", {}, String(doc.passages ?? "")),
    statusCell(doc),
    h("td", { class: "doc-actions" }, replace, removeButton(doc)),
  );
}

async function refresh() {
  clearTimeout(pollTimer);
  if (!adminKey()) return;
  const data = await guarded(() => call("GET", "/api/documents"));
  if (!data) return;
  const docs = Array.isArray(data.documents) ? data.documents : [];
  // Uploads first, newest on top; the shipped corpus follows.
  docs.sort((a, b) => (a.origin === b.origin ? String(b.updated_at).localeCompare(String(a.updated_at)) : a.origin === "upload" ? -1 : 1));
  rows.replaceChildren(...docs.map(row));
  if (docs.some((d) => d.status === "indexing") && !view.hidden) pollTimer = setTimeout(refresh, POLL_MS);
}

// ------------------------------------------------------------ upload and replace

function fileForm(file) {
  const body = new FormData();
  body.append("file", file, file.name);
  const title = $("upload-title").value.trim();
  const kind = $("upload-kind").value;
  const tier = $("upload-tier").value;
  if (title) body.append("title", title);
  if (kind) body.append("kind", kind);
  // Left empty, an upload is core and a replacement keeps the tier its document had.
  if (tier) body.append("tier", tier);
  return body;
}

uploadForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const file = $("upload-file").files[0];
  if (!file) {
    showError("请先选择要上传的文件。");
    return;
  }
  showError("");
  uploadButton.disabled = true;
  say(`正在上传 ${file.name}…`);
  const done = await guarded(() => call("POST", "/api/documents", fileForm(file)));
  uploadButton.disabled = false;
  say(done ? `已上传，文档编号 ${done.id}，正在建立索引。` : "");
  if (done) uploadForm.reset();
  refresh();
});

replaceInput.addEventListener("change", async () => {
  const file = replaceInput.files[0];
  const id = replacing;
  replacing = "";
  if (!file || !id) return;
  showError("");
  say(`正在替换 ${id}…`);
  const done = await guarded(() => call("PUT", `/api/documents/${encodeURIComponent(id)}`, fileForm(file)));
  say(done ? `已上传第 ${done.version} 版，正在建立索引。` : "");
  refresh();
});

// ------------------------------------------------------------ the key and the view

function lock() {
  sessionStorage.removeItem(ADMIN_KEY_STORE);
  clearTimeout(pollTimer);
  rows.replaceChildren();
  manage.hidden = true;
  logout.hidden = true;
  keyForm.hidden = false;
}

function unlock() {
  keyForm.hidden = true;
  manage.hidden = false;
  logout.hidden = false;
  refresh();
}

keyForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const key = keyInput.value.trim();
  keyInput.value = "";
  if (!key) {
    showError("请输入管理员密钥。");
    return;
  }
  sessionStorage.setItem(ADMIN_KEY_STORE, key);
  showError("");
  const ok = await guarded(() => call("GET", "/api/admin/check"));
  if (ok) unlock();
  else keyInput.focus();
});

logout.addEventListener("click", () => {
  lock();
  showError("");
  say("");
  keyInput.focus();
});

toggle.addEventListener("click", () => {
  view.hidden = !view.hidden;
  toggle.setAttribute("aria-expanded", String(!view.hidden));
  if (view.hidden) {
    clearTimeout(pollTimer);
    return;
  }
  if (adminKey()) unlock();
  else keyInput.focus();
});
