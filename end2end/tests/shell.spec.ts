import { expect, logIn, openHydrated, test } from "./session";

test.beforeEach(async ({ page }) => {
  await logIn(page);
});

test.afterEach(async ({ context }) => {
  await context.clearCookies();
});

test("overview shows every demo host reachable with its Kubernetes version", async ({ page }) => {
  await openHydrated(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Host clusters");
  const rows = page.getByTestId("host-row");
  await expect(rows).toHaveCount(2);
  for (const name of ["host", "host2"]) {
    const row = page.locator(`[data-testid=host-row][data-host="${name}"]`);
    await expect(row).toContainText("Reachable");
    await expect(row).toContainText("v1.33.0+tandem-sandbox");
    await expect(row).toContainText(/\d+\.\d ms/);
    // Each demo host manages itself and the member.
    const clusters = row.getByTestId("managed-clusters");
    await expect(clusters.getByRole("listitem")).toHaveCount(2);
    await expect(clusters).toContainText(name);
    await expect(clusters).toContainText("this host");
    await expect(clusters).toContainText("member");
  }
  await expect(page.getByTestId("summary")).toHaveText("2 of 2 reachable");
});

test("switching to 中文 translates the page without a reload and is remembered", async ({ page }) => {
  await openHydrated(page);
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  const nav = page.getByRole("navigation");
  await expect(nav.getByRole("link", { name: "Overview" })).toBeVisible();

  // A full page load would wipe this mark; client-side rendering keeps it.
  await page.evaluate(() => ((window as any).__tandemSamePage = true));
  await page.getByRole("button", { name: "中文" }).click();

  await expect(nav.getByRole("link", { name: "概览" })).toBeVisible();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("主集群");
  await expect(page.locator("html")).toHaveAttribute("lang", "zh");
  await expect(page.getByRole("button", { name: "中文" })).toHaveAttribute("aria-pressed", "true");
  expect(await page.evaluate(() => (window as any).__tandemSamePage)).toBe(true);

  // The server renders the next visit in Chinese from the cookie.
  const html = await (await page.request.get("/")).text();
  expect(html).toContain('lang="zh"');
  expect(html).toContain("概览");
  await page.reload();
  await expect(page.getByRole("navigation").getByRole("link", { name: "概览" })).toBeVisible();
});

test("refresh asks the server again and updates the page in place", async ({ page }) => {
  await openHydrated(page);
  const checked = page.locator("[data-host=host] td").last();
  await expect(checked).toHaveText(/\d+ s ago/);
  await page.evaluate(() => ((window as any).__tandemSamePage = true));
  const served = page.waitForResponse((r) => r.url().includes("/api/host_statuses"));
  await page.getByTestId("refresh").click();
  expect((await served).status()).toBe(200);
  await expect(page.getByTestId("summary")).toHaveText("2 of 2 reachable");
  expect(await page.evaluate(() => (window as any).__tandemSamePage)).toBe(true);
});

test("an unknown address gets a translated 404 page with a way back", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
  await page.getByRole("link", { name: "Back to the overview" }).click();
  await expect(page).toHaveURL(/\/$/);
});

test("health endpoints answer for probes without a session", async ({ request }) => {
  const health = await request.get("/healthz");
  expect(health.status()).toBe(200);
  const ready = await request.get("/readyz");
  expect(ready.status()).toBe(200);
  expect(await ready.text()).toContain("host: reachable");
});

test("server functions refuse cross-site calls", async ({ request }) => {
  const response = await request.post("/api/host_statuses", {
    headers: { Origin: "https://evil.example", "Content-Type": "application/x-www-form-urlencoded" },
    data: "",
  });
  expect(response.status()).toBe(403);
});

test("pages carry a strict Content-Security-Policy with a fresh nonce", async ({ page }) => {
  const policy = async () => (await page.goto("/"))?.headers()["content-security-policy"] ?? "";
  const first = await policy();
  expect(first).toMatch(/script-src 'nonce-[A-Za-z0-9_-]{22}' 'strict-dynamic' 'wasm-unsafe-eval'/);
  expect(first).toContain("frame-ancestors 'none'");
  expect(first).not.toContain("unsafe-inline");
  const nonce = (p: string) => p.match(/'nonce-([^']+)'/)?.[1];
  expect(nonce(await policy())).not.toEqual(nonce(first));
  // The page still hydrates under it (the fixture fails the test on any blocked script).
  await openHydrated(page, "/users");
});
