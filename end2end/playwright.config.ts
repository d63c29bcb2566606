import { defineConfig } from "@playwright/test";

// The suite runs against a release build (`cargo leptos build --release`) serving the embedded
// demo fleet; `make test` builds it first. Debian's chromium: Playwright's own browser
// download cannot work offline (see ../shared/TOOLCHAIN.md).
const port = process.env.TANDEM_E2E_PORT ?? "3100";
const baseURL = `http://127.0.0.1:${port}`;

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
  webServer: {
    // A fresh demo fleet every run: tests read its generated admin password from the data dir.
    command: `rm -rf ../target/e2e-demo && ../target/release/tandem serve --demo --scenario conflicts --data-dir ../target/e2e-demo --listen 127.0.0.1:${port}`,
    env: { LEPTOS_SITE_ROOT: "../target/site", RUST_LOG: "warn" },
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
  },
});
