// Talking to the planqa API: JSON calls, the streamed answer, error wording, the API key.

const KEY_STORE = "planqa.apiKey";

export class ApiError extends Error {
  constructor(message, { status = 0, code = "", allowed = [] } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.allowed = allowed;
  }
}

const STATUS_WORDS = {
  400: "请求有误",
  401: "需要访问密钥",
  403: "没有访问权限",
  404: "未找到",
  405: "服务不支持此操作",
  409: "文档已存在",
  413: "内容过长",
  415: "不支持的文件类型",
  422: "输入不符合要求",
  429: "请求过于频繁，请稍后再试",
  500: "服务器内部错误",
  502: "服务暂时不可用",
  503: "服务尚未就绪（索引可能正在加载），请稍后再试",
  504: "服务器响应超时",
};

function statusWords(status) {
  return STATUS_WORDS[status] || (status >= 500 ? `服务器出错（${status}）` : `请求失败（${status}）`);
}

/** Words for the error body of any 4xx/5xx: planqa's {error, detail, allowed} or FastAPI's list. */
export function describeError(status, body) {
  let detail = "";
  let allowed = [];
  if (body && typeof body === "object") {
    if (typeof body.detail === "string") detail = body.detail;
    else if (Array.isArray(body.detail)) {
      detail = body.detail
        .map((d) => (d && typeof d.msg === "string" ? d.msg.replace(/^Value error,\s*/, "") : ""))
        .filter(Boolean)
        .join("；");
    }
    if (Array.isArray(body.allowed)) allowed = body.allowed.filter((a) => typeof a === "string");
  }
  if (detail.length > 300) detail = `${detail.slice(0, 300)}…`;
  let message = detail ? `${statusWords(status)}：${detail}` : statusWords(status);
  if (allowed.length) message += `（可选：${allowed.slice(0, 12).join("、")}${allowed.length > 12 ? " 等" : ""}）`;
  return new ApiError(message, { status, code: (body && body.error) || "", allowed });
}

async function errorFrom(res) {
  let body = null;
  if ((res.headers.get("content-type") || "").includes("json")) {
    try {
      body = await res.json();
    } catch {
      body = null;
    }
  }
  return describeError(res.status, body);
}

// ------------------------------------------------------------ API key

let keyPrompt = async () => null;
let pendingKey = null;

/** Register the function that asks the user for a key: (reason|null) => Promise<string|null>. */
export function setKeyPrompt(fn) {
  keyPrompt = fn;
}

export function currentKey() {
  return sessionStorage.getItem(KEY_STORE) || "";
}

function askForKey(reason) {
  // Several calls can hit 401 at once (page load); they all wait for one prompt.
  if (!pendingKey) {
    pendingKey = Promise.resolve(keyPrompt(reason)).then((key) => {
      pendingKey = null;
      const clean = (key || "").trim();
      if (clean) sessionStorage.setItem(KEY_STORE, clean);
      return clean;
    });
  }
  return pendingKey;
}

// ------------------------------------------------------------ requests

const NETWORK_MESSAGE = "无法连接服务器。请确认服务已启动、网络正常后重试。";
// A busy server (503) or a rate limit (429) names when to come back; short waits are taken
// quietly, a few times, before the user sees an error.
const BACKOFF_TRIES = 2;
const BACKOFF_MAX_S = 5;

function retryAfterSeconds(res) {
  if (res.status !== 503 && res.status !== 429) return null;
  const header = res.headers.get("Retry-After");
  if (header === null || header.trim() === "") return null; // Number("") would be 0: no hint given
  const value = Number(header);
  return Number.isFinite(value) && value >= 0 && value <= BACKOFF_MAX_S ? value : null;
}

function pause(seconds, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(new DOMException("aborted", "AbortError"));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new DOMException("aborted", "AbortError"));
    };
    const timer = setTimeout(() => {
      if (signal) signal.removeEventListener("abort", onAbort);
      resolve();
    }, seconds * 1000);
    if (signal) signal.addEventListener("abort", onAbort, { once: true });
  });
}

async function request(path, init = {}) {
  let backoffs = 0;
  for (;;) {
    const usedKey = currentKey();
    const headers = { ...(init.headers || {}) };
    if (usedKey) headers.Authorization = `Bearer ${usedKey}`;
    let res;
    try {
      res = await fetch(path, { ...init, headers });
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      throw new ApiError(NETWORK_MESSAGE, { code: "network" });
    }
    const wait = retryAfterSeconds(res);
    if (wait !== null && backoffs < BACKOFF_TRIES) {
      backoffs += 1;
      await pause(wait, init.signal);
      continue;
    }
    if (res.status !== 401) {
      if (!res.ok) throw await errorFrom(res);
      return res;
    }
    if (currentKey() && currentKey() !== usedKey) continue; // a key arrived meanwhile
    if (usedKey) sessionStorage.removeItem(KEY_STORE);
    const key = await askForKey(usedKey ? "密钥无效或已失效，请重新输入。" : null);
    if (!key) throw new ApiError("此服务需要 API 密钥，输入有效的密钥后才能使用。", { status: 401, code: "unauthorized" });
  }
}

export async function getJSON(path) {
  const res = await request(path, { headers: { Accept: "application/json" } });
  return res.json();
}

export async function postJSON(path, body) {
  const res = await request(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  return res.json();
}

function parseEvent(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  return { event, data: JSON.parse(data.join("\n")) };
}

// The stream has already answered 200 when an error event arrives; map its code back to words.
const EVENT_STATUS = { internal: 500, unavailable: 503, not_found: 404, invalid_request: 422 };

/** Ask over Server-Sent Events. handlers: citations(head), answer(fullTextSoFar).
 *  Resolves with the full /api/ask payload from the `done` event. */
export async function askStream(body, handlers, signal) {
  let res;
  try {
    res = await request("/api/ask/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
      signal,
    });
  } catch (err) {
    // A server without the streaming route still answers the plain JSON endpoint.
    if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 405)) throw err;
    const payload = await postJSON("/api/ask", body);
    handlers.citations(payload);
    handlers.answer(payload.answer);
    return payload;
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let answer = "";
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      throw new ApiError("连接中断，回答未完整接收，请重试。", { code: "network" });
    }
    if (chunk.done) break;
    buffer = (buffer + decoder.decode(chunk.value, { stream: true })).replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const parsed = parseEvent(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
      if (!parsed) continue;
      const { event, data } = parsed;
      if (event === "citations") handlers.citations(data);
      else if (event === "answer") {
        answer += data.text || "";
        handlers.answer(answer);
      } else if (event === "done") {
        reader.cancel().catch(() => {});
        return data;
      } else if (event === "error") {
        throw describeError(EVENT_STATUS[data.error] || 422, data);
      }
    }
  }
  throw new ApiError("连接中断，回答未完整接收，请重试。", { code: "network" });
}
