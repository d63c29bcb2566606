import { defineConfig } from "@playwright/test";

// The suite runs against a release build (`cargo leptos build --release`) serving the embedded
// demo fleet; `make test` builds it first. Debian's chromium: Playwright's own browser
// download cannot work offline (see docs/TOOLCHAIN.md).
const port = process.env.TANDEM_E2E_PORT ?? "3100";
const baseURL = `http://127.0.0.1:${port}`;
// wire-recorder.mjs's proxy, which every browser context and API request goes through.
const recorder = `127.0.0.1:${Number(port) + 1}`;

export default defineConfig({
  testDir: "./tests",
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "off",
    // Playwright sends loopback through it too (Chromium's implicit bypass is lifted).
    proxy: { server: `http://${recorder}` },
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  // Every spec file runs in `console`; then its teardown, `secrets`, greps what the server
  // answered and logged during the run for the demo fleet's secrets (tests/secrets.teardown.ts).
  // A teardown project runs even when the command line picks some spec files only.
  // `sync` turns two-way sync on, which rewrites the hosts' users and roles: it runs after
  // every other spec, on the same server, and before the secrets check.
  projects: [
    { name: "console", testMatch: /.*\.spec\.ts/, teardown: "secrets" },
    { name: "sync", testMatch: /sync\.flow\.ts/, dependencies: ["console"] },
    { name: "secrets", testMatch: /secrets\.teardown\.ts/ },
  ],
  webServer: {
    // A fresh demo fleet every run: tests read its generated admin password from the data dir.
    // wire-recorder.mjs runs it, keeps its log and, as the tests' proxy, every answer it gives, in
    // ../target/e2e-wire for the secrets check. RUST_LOG=info (the production default) so the
    // check sees what production logs; the terminal still gets warnings and errors only.
    command:
      `rm -rf ../target/e2e-demo && node wire-recorder.mjs --proxy ${recorder} --record ../target/e2e-wire -- ` +
      `../target/release/tandem serve --demo --scenario conflicts --data-dir ../target/e2e-demo --listen 127.0.0.1:${port}`,
    env: { LEPTOS_SITE_ROOT: "../target/site", RUST_LOG: "info" },
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
  },
});
