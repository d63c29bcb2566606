// Secrets never leave: after every browser test has run (this is the `console` project's
// teardown, see playwright.config.ts), grep everything the server answered during the run
// (HTML pages, server-function answers, static files; headers and bodies, as
// wire-recorder.mjs kept them) and everything it logged, for every secret of the demo fleet
// (jwtSecrets, admin password, cluster tokens and CA keys, kubeconfig tokens, service-account
// tokens, bcrypt hashes and passwords, including those created or typed during the run) and
// for every session token outside its Set-Cookie header. Any hit fails, naming the answer or
// log line and the kind of secret, never the secret.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import {
  addDemoDir,
  addKubeconfig,
  addSent,
  bodyText,
  contentType,
  plainLog,
  recordedAnswers,
  Scanner,
  SecretList,
  wireDir,
  type Hit,
  type Recorded,
} from "./secrets";
import { demoDir } from "./session";

/**
 * The one line allowed to carry a secret: `tandem serve --demo` prints the demo admin's
 * password at start, on purpose (README: `make run` prints it), to the terminal that started
 * it. Any other line with it, or any other secret in that line, still fails.
 */
const DEMO_BANNER = /^demo KubeSphere \S+ admin login: user admin, password \S+$/;

test("the search finds a planted secret in every encoding and nothing else", () => {
  const list = new SecretList();
  const token = "f66b3e09ff05b8d0fda2ec634a2e706e6698a301d2ec2e06";
  const hash = "$2b$12$Xx6abcdefghijklmnopqrsuvwxyzABCDEFGHIJKLMNOPQRSTU/.Vw";
  const password = "Plant@Pass-1";
  const jwtSecret = "jwt~~secret??>>~~1"; // its base64 has + and / at every alignment
  list.add("cluster admin token", "plant", token);
  list.add("bcrypt hash", "plant", hash);
  list.add("password sent by a test", "plant", password);
  list.add("jwtSecret", "plant", jwtSecret);
  list.add("too short", "plant", "Ab-1");
  list.add("the same value again", "plant", token);
  expect(list.secrets.map((s) => s.kind)).toEqual(["cluster admin token", "bcrypt hash", "password sent by a test", "jwtSecret"]);
  const kubeconfig = `apiVersion: v1\nusers:\n- name: a\n  user:\n    token: ${token}\n`;
  const harvested = new SecretList();
  addKubeconfig(harvested, "plant", kubeconfig);
  expect(harvested.secrets.map((s) => s.value)).toEqual([token]);
  const scanner = new Scanner(list.secrets);

  const planted: [string, RegExp, string][] = [
    ["cluster admin token", /^as is$/, `<td>${token}</td>`],
    ["cluster admin token", /^as is$/, JSON.stringify({ kubeconfig })],
    ["bcrypt hash", /^as is$/, JSON.stringify({ password: hash }).replaceAll("$", "\\u0024").replaceAll("/", "\\/")],
    ["bcrypt hash", /^as is$/, `<script>x("${JSON.stringify({ p: hash }).replaceAll('"', '\\"')}")</script>`],
    ["password sent by a test", /^as is$/, `<input value="${password.replace("@", "&#x40;")}">`],
    ["password sent by a test", /^as is$/, `/login?next=%2F&p=${encodeURIComponent(password)}`],
    ["password sent by a test", /^as is$/, `{"error":"${password.replace("@", "\\u0040")}"}`],
  ];
  for (const shift of ["", "x", "xy"]) {
    planted.push(["cluster admin token", /^base64$/, Buffer.from(shift + kubeconfig).toString("base64")]);
    planted.push(["bcrypt hash", /^base64$/, Buffer.from(shift + hash).toString("base64")]);
    planted.push(["jwtSecret", /^base64url$/, Buffer.from(`${shift}jwtSecret: ${jwtSecret}\n`).toString("base64url")]);
  }
  for (const [kind, form, text] of planted) {
    const hits = scanner.scan(`<html>before ${text} after</html>`);
    expect(hits.map((h) => h.kind), text).toEqual([kind]);
    expect(hits[0].form, text).toMatch(form);
    for (const secret of [token, hash, password, jwtSecret]) expect(hits[0].context).not.toContain(secret);
  }

  // A secret next to the hit is masked whole, not cut at the context's edge.
  const [nearby] = scanner.scan(`${password} ${"x".repeat(30)}${token}`, (s) => s.kind !== "password sent by a test");
  expect(nearby.context).toBe(`«password sent by a test» ${"x".repeat(30)}«cluster admin token»`);

  // So is one encoded otherwise: a context shows decoded text.
  const [encoded] = scanner.scan(`${token} ${password.replace("@", "&#x40;")}`, (s) => s.kind !== "cluster admin token");
  expect(encoded.context).toBe("«cluster admin token» «password sent by a test»");

  // Near misses are not hits: one character changed, cut short, the other alphabet's base64.
  const clean = [
    token.slice(0, -1) + "0",
    token.slice(0, 20),
    hash.replace("Xx6", "Xx7"),
    password.toLowerCase(),
    Buffer.from(token.replace("f66b", "f66c")).toString("base64"),
  ];
  for (const text of clean) expect(scanner.scan(text), text).toEqual([]);
  // `ignore` skips a kind (a session token inside its own Set-Cookie header).
  expect(scanner.scan(token, (s) => s.kind === "cluster admin token")).toEqual([]);
});

test("no secret of the demo fleet left the server during the run", async () => {
  test.setTimeout(180_000);
  expect(existsSync(join(wireDir, "responses.jsonl")), "wire-recorder.mjs recorded nothing: is it the webServer command?").toBe(true);
  const answers = recordedAnswers();
  const log = plainLog(readFileSync(join(wireDir, "server.log"), "utf8"));

  // Not a pass by default: the run must have produced what is searched.
  const served = answers.filter((r) => !r.byRecorder);
  const pages = served.filter((r) => contentType(r).startsWith("text/html") && r.status === 200);
  const serverFunctions = served.filter((r) => r.path.startsWith("/api/"));
  expect(pages.length, "HTML pages recorded (none: did every browser test skip, or did the browser bypass the recorder's proxy?)").toBeGreaterThan(0);
  expect(serverFunctions.length, "server-function answers recorded").toBeGreaterThan(0);
  expect(log, "the server's log was recorded").toContain("Tandem console on http://");

  const list = new SecretList();
  addDemoDir(list, demoDir);
  const sent = addSent(list, answers);
  const kinds = list.kinds();
  const count = (kind: string) => kinds.get(kind) ?? 0;
  expect(count("jwtSecret"), "jwtSecrets (shared and stranger's)").toBeGreaterThanOrEqual(2);
  expect(count("admin password")).toBe(1);
  expect(count("cluster admin token"), "admin tokens of host, host2, member, spare, stranger").toBeGreaterThanOrEqual(5);
  expect(count("CA private key")).toBeGreaterThanOrEqual(5);
  expect(count("Secret token"), "service-account tokens of the joins").toBeGreaterThanOrEqual(1);
  expect(count("bcrypt hash"), "KubeSphere users' password hashes").toBeGreaterThanOrEqual(1);
  if (served.some((r) => r.method === "POST" && r.path === "/api/login" && r.request)) {
    expect(sent.passwords, "passwords typed on the login page").toBeGreaterThanOrEqual(1);
  }
  if (served.some((r) => String(r.headers["set-cookie"] ?? "").includes("tandem_session="))) {
    expect(sent.sessions, "session tokens handed out").toBeGreaterThanOrEqual(1);
  }
  const searched =
    `${list.secrets.length} secrets (${[...kinds].map(([k, n]) => `${n} ${k}`).join(", ")}) in ` +
    `${answers.length} answers (${pages.length} HTML pages, ${serverFunctions.length} server-function answers) ` +
    `and ${log.split("\n").length} log lines`;
  test.info().annotations.push({ type: "searched", description: searched });
  console.log(`secrets check: ${searched}`);
  for (const r of answers.filter((r) => r.byRecorder)) console.log(`secrets check: the recorder answered #${r.seq} ${r.url} itself (${r.status})`);
  const scanner = new Scanner(list.secrets);

  // The search works on this run's real data: a stored service-account token, base64 in a
  // JSON string in the largest page recorded, is found.
  const largest = pages.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const saToken = list.secrets.find((s) => s.kind === "Secret token")!;
  const spiked = bodyText(largest).replace("</body>", `<script>${JSON.stringify({ t: Buffer.from(`x${saToken.value}`).toString("base64") })}</script></body>`);
  expect(scanner.scan(spiked).map((h) => h.kind)).toContain("Secret token");

  const leaks: string[] = [];
  const report = (where: string, hits: Hit[]) => {
    for (const h of hits) {
      const how = `${h.form === "as is" ? "" : ` as ${h.form}`}${h.view === "as sent" ? "" : ` (${h.view})`}`;
      leaks.push(`${h.kind} (from ${h.source})${how} in ${scanner.masked(where)}: …${h.context}…`);
    }
  };
  const isSession = (s: { kind: string }) => s.kind === "session token";

  const byBody = new Map<string, Recorded[]>();
  for (const r of answers) byBody.set(r.body, [...(byBody.get(r.body) ?? []), r]);
  for (const [, same] of byBody) {
    const first = same[0];
    const also = same.length > 1 ? ` (and ${same.length - 1} more answers with this body)` : "";
    report(`the body of #${first.seq} ${first.method} ${first.url} (${first.status}, ${contentType(first) || "no type"})${also}`, scanner.scan(bodyText(first)));
  }
  for (const r of answers) {
    for (const [name, value] of Object.entries(r.headers)) {
      const text = Array.isArray(value) ? value.join("\n") : value;
      report(`header ${name} of #${r.seq} ${r.method} ${r.url}`, scanner.scan(text, name === "set-cookie" ? isSession : undefined));
    }
  }
  const allowed: string[] = [];
  log.split("\n").forEach((line, i) => {
    const hits = scanner.scan(line);
    if (hits.length === 1 && hits[0].kind === "admin password" && DEMO_BANNER.test(line.trim()) && allowed.length === 0) {
      allowed.push(`server.log line ${i + 1}: the demo banner prints the admin password (on purpose)`);
      return;
    }
    report(`server.log line ${i + 1}`, hits);
  });
  for (const a of allowed) {
    test.info().annotations.push({ type: "allowed", description: a });
    console.log(`secrets check, allowed: ${a}`);
  }

  expect(leaks.length, `secrets left the server (records in ${wireDir}):\n${leaks.join("\n")}\n`).toBe(0);
});
