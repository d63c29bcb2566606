// The secrets check's parts: what counts as a secret of the demo fleet (read from its data
// directory and from what the tests sent), and a search for those secrets, in the encodings a
// web answer or a log line could carry them, through everything the server answered and
// logged. Used by secrets.teardown.ts after every browser test has run.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

/** Where wire-recorder.mjs keeps the run's answers, the request bodies and the server log. */
export const wireDir = resolve(__dirname, "../../target/e2e-wire");

/** Shorter values are not searched: too likely to occur by chance. Every demo secret is longer. */
export const MIN_LENGTH = 8;

/** A value that must never leave the server. `kind` says what it is; never print `value`. */
export interface Secret {
  kind: string;
  /** Where it was found: a file of the data directory, an object, a request of the run. */
  source: string;
  value: string;
}

/** One searched form of a secret. */
interface Needle {
  secret: Secret;
  text: string;
  form: string;
}

export interface Hit {
  kind: string;
  source: string;
  form: string;
  view: string;
  /** Around the hit, with every known secret replaced by «its kind». */
  context: string;
}

// ---------------------------------------------------------------------------------------------
// What counts as a secret.

/** Adds `value` unless it is too short or already there (first kind and source win). */
export class SecretList {
  readonly secrets: Secret[] = [];
  private readonly seen = new Set<string>();

  add(kind: string, source: string, value: string | undefined | null) {
    const v = (value ?? "").trim();
    if (v.length < MIN_LENGTH || this.seen.has(v)) return;
    this.seen.add(v);
    this.secrets.push({ kind, source, value: v });
  }

  kinds(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const s of this.secrets) counts.set(s.kind, (counts.get(s.kind) ?? 0) + 1);
    return counts;
  }
}

/** The body lines of a PEM private key: a dump of the key shows at least one of them whole. */
function addPemKey(list: SecretList, kind: string, source: string, pem: string) {
  const body = pem
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("-----"));
  list.add(kind, source, body.join(""));
  for (const line of body) if (line.length >= 16) list.add(kind, source, line);
}

/** Tokens, passwords and keys in a kubeconfig's text (its CA certificate is public). */
export function addKubeconfig(list: SecretList, source: string, text: string) {
  const fields = /^\s*-?\s*(token|password|client-key-data|id-token|refresh-token|access-token):\s*["']?([^"'\s]+)/gm;
  for (const [, field, value] of text.matchAll(fields)) {
    if (field === "client-key-data") {
      list.add("kubeconfig client key", source, value);
      addPemKey(list, "kubeconfig client key", source, Buffer.from(value, "base64").toString("utf8"));
    } else {
      list.add(`kubeconfig ${field}`, source, value);
    }
  }
}

/** Base64 text that decodes to readable UTF-8, or null. */
function decodedBase64(value: string): string | null {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(value)) return null;
  const text = Buffer.from(value, "base64").toString("utf8");
  return /^[\x09\x0a\x0d\x20-\x7e\u00a0-\uffff]*$/.test(text) && !text.includes("\ufffd") ? text : null;
}

/**
 * The secrets in one stored Kubernetes object: `Secret` data (but the public `ca.crt` and the
 * `namespace`), and anywhere in any object a `password` (KubeSphere `User`s: plain as the
 * seed writes them, then bcrypt hashes), a `token`, a `jwtSecret` (also inside a YAML
 * document such as `kubesphere-config`) or a `kubeconfig` (a `Cluster`'s, base64).
 */
export function addObject(list: SecretList, source: string, plural: string, object: any) {
  if (plural === "secrets") {
    for (const data of [object?.data, object?.stringData]) {
      for (const [key, value] of Object.entries<string>(data ?? {})) {
        if (key === "ca.crt" || key === "namespace" || typeof value !== "string") continue;
        const plain = data === object.data ? Buffer.from(value, "base64").toString("utf8") : value;
        list.add(`Secret ${key}`, source, plain);
      }
    }
  }
  const walk = (value: any, key: string) => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, key);
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) walk(v, k);
    } else if (typeof value === "string") {
      if (key === "password") {
        list.add(/^\$2[abxy]?\$/.test(value) ? "bcrypt hash" : "User password", source, value);
      } else if (key === "token" || key === "jwtSecret") {
        list.add(key, source, value);
      } else if (key === "kubeconfig") {
        addKubeconfig(list, source, decodedBase64(value) ?? value);
      }
      for (const [, secret] of value.matchAll(/jwtSecret:\s*["']?([^"'\s]+)/g)) list.add("jwtSecret", source, secret);
    }
  };
  walk(plural === "secrets" ? { ...object, data: undefined, stringData: undefined } : object, "");
}

/** Every stored object of a sandbox cluster, as its snapshot and write-ahead log kept them. */
function storedObjects(stateDir: string): { file: string; plural: string; name: string; object: any }[] {
  const out: { file: string; plural: string; name: string; object: any }[] = [];
  const snapshot = join(stateDir, "snapshot.json");
  if (existsSync(snapshot)) {
    for (const [key, object] of JSON.parse(readFileSync(snapshot, "utf8")).objects ?? []) {
      out.push({ file: snapshot, plural: key.plural, name: key.name, object });
    }
  }
  const wal = join(stateDir, "wal.jsonl");
  if (existsSync(wal)) {
    for (const line of readFileSync(wal, "utf8").split("\n")) {
      if (!line.trim()) continue;
      let record: any;
      try {
        record = JSON.parse(line);
      } catch {
        continue; // a torn last line, as the sandbox drops it on replay
      }
      const put = record.Put;
      if (put) out.push({ file: wal, plural: put.key.plural, name: put.key.name, object: put.object });
    }
  }
  return out;
}

/**
 * The demo fleet's secrets in its data directory: the jwtSecrets, the admin password, every
 * cluster's admin token and CA key, the kubeconfigs, and every secret any cluster stored at
 * any point of the run (the write-ahead log keeps deleted and replaced objects too, so a
 * join's token survives the cluster's removal and a changed password's old hash stays).
 */
export function addDemoDir(list: SecretList, dir: string) {
  for (const file of ["jwt-secret", "stranger-jwt-secret"]) {
    if (existsSync(join(dir, file))) list.add("jwtSecret", file, readFileSync(join(dir, file), "utf8"));
  }
  if (existsSync(join(dir, "admin-password"))) {
    list.add("admin password", "admin-password", readFileSync(join(dir, "admin-password"), "utf8"));
  }
  // Directories first: a kubeconfig's token is its cluster's admin token, and is named so.
  const entries = readdirSync(dir).sort((a, b) => Number(a.endsWith(".kubeconfig")) - Number(b.endsWith(".kubeconfig")));
  for (const entry of entries) {
    const path = join(dir, entry);
    if (entry.endsWith(".kubeconfig")) {
      addKubeconfig(list, entry, readFileSync(path, "utf8"));
    } else if (statSync(path).isDirectory()) {
      if (existsSync(join(path, "token"))) list.add("cluster admin token", `${entry}/token`, readFileSync(join(path, "token"), "utf8"));
      if (existsSync(join(path, "ca.key"))) addPemKey(list, "CA private key", `${entry}/ca.key`, readFileSync(join(path, "ca.key"), "utf8"));
    }
  }
  for (const entry of entries) {
    for (const { file, plural, name, object } of storedObjects(join(dir, entry, "state"))) {
      addObject(list, `${entry}: ${plural}/${name} (${file.split("/").pop()})`, plural, object);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// What the run recorded.

export interface Recorded {
  seq: number;
  method: string;
  /** Absolute, as the proxy was asked for it; `path` is its path alone. */
  url: string;
  path: string;
  requestType: string | null;
  request: string | null;
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
  bytes: number;
  byRecorder: boolean;
}

export function recordedAnswers(dir = wireDir): Recorded[] {
  return readFileSync(join(dir, "responses.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

export const contentType = (r: Recorded) => String(r.headers["content-type"] ?? "");

/**
 * What the tests sent that is secret: every password typed into a form (the demo's, the ones
 * tests make up, wrong ones), every kubeconfig pasted or uploaded, and the session tokens the
 * server handed out in `Set-Cookie` (they belong in that header only, never in a body).
 */
export function addSent(list: SecretList, answers: Recorded[], dir = wireDir): { passwords: number; sessions: number } {
  const seen = { passwords: 0, sessions: 0 };
  for (const r of answers) {
    const where = `${r.method} ${r.path} (#${r.seq})`;
    if (r.request) {
      const text = readFileSync(join(dir, r.request), "utf8");
      const fields: [string, string][] = (r.requestType ?? "").includes("json")
        ? Object.entries(safeJson(text) ?? {}).filter((e): e is [string, string] => typeof e[1] === "string")
        : [...new URLSearchParams(text)];
      for (const [name, value] of fields) {
        if (/kubeconfig/i.test(name)) addKubeconfig(list, `sent: ${where} field ${name}`, value);
        else if (/pass|secret|token/i.test(name)) {
          seen.passwords++;
          list.add("password sent by a test", `${where} field ${name}`, value);
        }
      }
    }
    const cookies = r.headers["set-cookie"];
    for (const cookie of Array.isArray(cookies) ? cookies : cookies ? [cookies] : []) {
      const session = cookie.match(/^tandem_session=([^;]*)/);
      if (session?.[1]) {
        seen.sessions++;
        list.add("session token", `Set-Cookie of ${where}`, session[1]);
      }
    }
  }
  return seen;
}

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// The search.

/**
 * The forms a secret is searched in: as is, and inside base64 (standard and URL-safe) at each
 * of the three alignments, so a secret anywhere within a base64 blob (a kubeconfig in a
 * `Cluster`, a `Secret`'s data) is found too.
 */
export function needles(secret: Secret): Needle[] {
  const out: Needle[] = [{ secret, text: secret.value, form: "as is" }];
  const bytes = Buffer.from(secret.value, "utf8");
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.concat([Buffer.alloc(shift), bytes]).toString("base64");
    // Only the characters made of the secret's bits alone.
    const core = b64.slice(Math.ceil((8 * shift) / 6), Math.floor((8 * (shift + bytes.length)) / 6));
    if (core.length < MIN_LENGTH) continue;
    out.push({ secret, text: core, form: "base64" });
    const url = core.replaceAll("+", "-").replaceAll("/", "_");
    if (url !== core) out.push({ secret, text: url, form: "base64url" });
  }
  return out;
}

const jsonUnescape = (s: string) => {
  for (let i = 0; i < 3 && s.includes("\\"); i++) {
    s = s
      .replace(/\\u([0-9a-fA-F]{4})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)))
      .replace(/\\([\\/"'bfnrt])/g, (_, c) => ({ b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" } as any)[c] ?? c);
  }
  return s;
};
const htmlDecode = (s: string) =>
  s.includes("&")
    ? s
        .replace(/&#x([0-9a-fA-F]+);/g, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
        .replace(/&#([0-9]+);/g, (_, dec) => String.fromCodePoint(parseInt(dec, 10)))
        .replace(/&(quot|apos|lt|gt|amp);/g, (_, n) => ({ quot: '"', apos: "'", lt: "<", gt: ">", amp: "&" } as any)[n])
    : s;
const percentDecode = (s: string) =>
  s.includes("%")
    ? s.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ""), "hex").toString("utf8"))
    : s;

/** The text as sent, and as a reader would decode it: JSON strings, HTML entities, URLs. */
export function views(text: string): { view: string; text: string }[] {
  const out: { view: string; text: string }[] = [{ view: "as sent", text }];
  const add = (view: string, t: string) => {
    if (!out.some((o) => o.text === t)) out.push({ view, text: t });
  };
  add("JSON-unescaped", jsonUnescape(text));
  add("HTML-decoded", htmlDecode(text));
  add("HTML-decoded, JSON-unescaped", jsonUnescape(htmlDecode(text)));
  add("JSON-unescaped, HTML-decoded", htmlDecode(jsonUnescape(text)));
  add("URL-decoded", percentDecode(text));
  return out;
}

const PREFIX = 4;
const prefixHash = (s: string, at: number) => {
  let h = 0;
  for (let i = 0; i < PREFIX; i++) h = (Math.imul(h, 65599) + s.charCodeAt(at + i)) | 0;
  return h;
};

/** Finds every form of every secret in a text in one pass per view (secrets number hundreds). */
export class Scanner {
  private readonly byPrefix = new Map<number, Needle[]>();
  private readonly all: Needle[] = [];

  constructor(secrets: Secret[]) {
    for (const secret of secrets) {
      for (const needle of needles(secret)) {
        this.all.push(needle);
        const h = prefixHash(needle.text, 0);
        const list = this.byPrefix.get(h);
        if (list) list.push(needle);
        else this.byPrefix.set(h, [needle]);
      }
    }
    // Longest first: a context masks the longer secret before a shorter one inside it.
    this.all.sort((a, b) => b.text.length - a.text.length);
  }

  get needleCount() {
    return this.all.length;
  }

  /** Hits in `text`, one per secret (its first form and view found); `ignore` skips some secrets. */
  scan(text: string, ignore: (s: Secret) => boolean = () => false): Hit[] {
    const hits: Hit[] = [];
    const found = new Set<Secret>();
    for (const { view, text: t } of views(text)) {
      for (let at = 0; at + MIN_LENGTH <= t.length; at++) {
        const candidates = this.byPrefix.get(prefixHash(t, at));
        if (!candidates) continue;
        for (const needle of candidates) {
          if (found.has(needle.secret) || ignore(needle.secret) || !t.startsWith(needle.text, at)) continue;
          found.add(needle.secret);
          hits.push({
            kind: needle.secret.kind,
            source: needle.secret.source,
            form: needle.form,
            view,
            context: this.context(t, at, needle.text.length),
          });
        }
      }
    }
    return hits;
  }

  /**
   * 40 characters either side of `text[at, at + length)`, widened so that no secret is cut at
   * an edge (a cut one would not be masked), then masked.
   */
  private context(text: string, at: number, length: number): string {
    let [start, end] = [Math.max(0, at - 40), Math.min(text.length, at + length + 40)];
    for (let changed = true; changed; ) {
      changed = false;
      for (const { text: n } of this.all) {
        const left = text.indexOf(n, Math.max(0, start - n.length + 1));
        if (left >= 0 && left < start) [start, changed] = [left, true];
        const right = text.indexOf(n, Math.max(0, end - n.length + 1));
        if (right >= 0 && right < end && right + n.length > end) [end, changed] = [right + n.length, true];
      }
    }
    return this.masked(text.slice(start, end));
  }

  /**
   * `text`, decoded as a reader would (JSON, HTML, URL escapes: an encoded secret shows
   * decoded), with every form of every secret replaced by «kind»: safe to print.
   */
  masked(text: string): string {
    text = percentDecode(jsonUnescape(htmlDecode(jsonUnescape(text))));
    for (const needle of this.all) {
      if (text.includes(needle.text)) text = text.replaceAll(needle.text, `«${needle.secret.kind}»`);
    }
    return text.replace(/\r?\n/g, "⏎");
  }
}

/** How to read a recorded body: text as UTF-8, anything else byte for byte. */
export function bodyText(r: Recorded, dir = wireDir): string {
  const bytes = readFileSync(join(dir, r.body));
  return /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded))/.test(contentType(r))
    ? bytes.toString("utf8")
    : bytes.toString("latin1");
}

/** ANSI colours out, so a value the log colours is found whole. */
export const plainLog = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");
