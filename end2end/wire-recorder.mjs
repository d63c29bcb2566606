// The browser tests' web server, recorded: runs the command after `--` (the console, on the
// address the tests use), keeps its stdout and stderr, and serves as the HTTP proxy every
// browser context and API request of the tests goes through (playwright.config.ts: `proxy`).
// It passes each request on unchanged and keeps, in `--record`, every answer (status,
// headers, body) and the body of every request that had one. The secrets check
// (tests/secrets.teardown.ts) greps those after the run.
//
//   node wire-recorder.mjs --proxy 127.0.0.1:3101 --record ../target/e2e-wire -- \
//     ../target/release/tandem serve ... --listen 127.0.0.1:3100
//
// A proxy rather than a front server: the console keeps its own address (tests check that a
// kubeconfig aimed at it is refused). Chromium sends plain-HTTP requests to a proxy in
// absolute form; Playwright's API requests open a CONNECT tunnel, which is answered here and
// read as HTTP too. Nothing is added to a request, nothing dropped but the hop-by-hop
// headers, so the console sees what the browser sent. Loopback targets only.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";

const args = process.argv.slice(2);
const split = args.indexOf("--");
if (split < 0) fail("usage: wire-recorder.mjs --proxy HOST:PORT --record DIR -- COMMAND ARGS...");
const option = (name) => {
  const at = args.indexOf(name);
  if (at < 0 || at > split) fail(`${name} is missing`);
  return args[at + 1];
};
const [proxyHost, proxyPort] = option("--proxy").split(":");
const recordDir = option("--record");
const command = args.slice(split + 1);
if (!isLoopback(proxyHost)) fail(`--proxy ${proxyHost}: loopback only`);

function fail(message) {
  console.error(`wire-recorder: ${message}`);
  process.exit(2);
}

function isLoopback(host) {
  return /^127\.\d+\.\d+\.\d+$/.test(host);
}

rmSync(recordDir, { recursive: true, force: true });
for (const sub of ["bodies", "requests"]) mkdirSync(join(recordDir, sub), { recursive: true });
const logPath = join(recordDir, "server.log");
const indexPath = join(recordDir, "responses.jsonl");
writeFileSync(logPath, "");
writeFileSync(indexPath, "");

const child = spawn(command[0], command.slice(1), {
  stdio: ["ignore", "pipe", "pipe"],
  env: process.env,
});
// The whole log goes to the file; the terminal gets what it got before (RUST_LOG=warn):
// everything but tracing's INFO, DEBUG and TRACE lines.
const tee = (stream, out) => {
  let pending = "";
  stream.on("data", (chunk) => {
    appendFileSync(logPath, chunk);
    pending += chunk.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop();
    for (const line of lines) {
      const plain = line.replace(/\x1b\[[0-9;]*m/g, "");
      if (!/^\S+\s+(INFO|DEBUG|TRACE)\s/.test(plain)) out.write(line + "\n");
    }
  });
  stream.on("end", () => pending && out.write(pending + "\n"));
};
tee(child.stdout, process.stdout);
tee(child.stderr, process.stderr);
child.on("exit", (code, signal) => {
  console.error(`wire-recorder: the server exited (${signal ?? code})`);
  process.exit(code ?? 1);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    child.kill(signal);
  });
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);
const agent = new http.Agent({ keepAlive: true });
let sequence = 0;

/** Tunnels' targets, by socket. */
const tunnels = new WeakMap();

/** Where a request goes: its absolute URL (a browser's proxy request), or its tunnel's target. */
function target(req) {
  const url = /^https?:\/\//.test(req.url) ? new URL(req.url) : new URL(`http://${tunnels.get(req.socket) ?? req.headers.host}${req.url}`);
  return { host: url.hostname, port: Number(url.port || 80), path: url.pathname + url.search };
}

const server = http.createServer((req, res) => {
  const seq = ++sequence;
  const started = Date.now();
  const requestChunks = [];
  req.on("data", (chunk) => requestChunks.push(chunk));
  res.on("error", () => {});
  const to = target(req);
  const entryUrl = `http://${to.host}:${to.port}${to.path}`;
  if (!isLoopback(to.host)) {
    const body = Buffer.from(`wire-recorder: ${to.host} is not on loopback; refused\n`);
    req.on("end", () => {
      record(seq, req, entryUrl, requestChunks, 403, { "content-type": "text/plain" }, body, started, true);
      res.writeHead(403, { "content-type": "text/plain" }).end(body);
    });
    req.resume();
    return;
  }
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name)) headers[name] = value;
  }
  const outbound = http.request(
    { host: to.host, port: to.port, method: req.method, path: to.path, headers, agent },
    (answer) => {
      const answerHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (!HOP_BY_HOP.has(name)) answerHeaders[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answerHeaders);
      const chunks = [];
      answer.on("data", (chunk) => {
        chunks.push(chunk);
        res.write(chunk);
      });
      answer.on("end", () => {
        // On disk before the client has the whole answer: once a test saw it, it is recorded.
        record(seq, req, entryUrl, requestChunks, answer.statusCode, answerHeaders, Buffer.concat(chunks), started);
        res.end();
      });
      answer.on("error", () => res.destroy());
    },
  );
  outbound.on("error", (error) => {
    const body = Buffer.from(`wire-recorder: ${to.host}:${to.port} did not answer: ${error.message}\n`);
    record(seq, req, entryUrl, requestChunks, 502, { "content-type": "text/plain" }, body, started, true);
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
    res.end(body);
  });
  req.pipe(outbound);
});
// A CONNECT tunnel (Playwright's API requests) to a loopback address: answered here, and what
// comes through it is read as HTTP by the same server, its requests going to the Host named.
server.on("connect", (req, socket, head) => {
  const [host] = req.url.split(":");
  if (!isLoopback(host)) {
    socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
    return;
  }
  tunnels.set(socket, req.url);
  socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
  if (head?.length) socket.unshift(head);
  server.emit("connection", socket);
});
server.keepAliveTimeout = 5_000;
server.listen(Number(proxyPort), proxyHost, () => {
  console.error(`wire-recorder: proxy on http://${proxyHost}:${proxyPort}, recording into ${recordDir}`);
});
server.on("error", (error) => fail(`cannot listen on ${proxyHost}:${proxyPort}: ${error.message}`));

function record(seq, req, url, requestChunks, status, headers, body, started, byRecorder = false) {
  const sha = createHash("sha256").update(body).digest("hex");
  const bodyFile = join("bodies", sha);
  if (!existsSync(join(recordDir, bodyFile))) writeFileSync(join(recordDir, bodyFile), body);
  let requestFile = null;
  const sent = Buffer.concat(requestChunks);
  if (sent.length > 0) {
    requestFile = join("requests", `${seq}`);
    writeFileSync(join(recordDir, requestFile), sent);
  }
  const entry = {
    seq,
    method: req.method,
    url,
    path: new URL(url).pathname,
    requestType: req.headers["content-type"] ?? null,
    request: requestFile,
    status,
    headers,
    body: bodyFile,
    bytes: body.length,
    ms: Date.now() - started,
    byRecorder,
  };
  appendFileSync(indexPath, JSON.stringify(entry) + "\n");
}
