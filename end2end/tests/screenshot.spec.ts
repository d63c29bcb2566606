import { resolve } from "node:path";
import { demoDir, expect, logIn, openHydrated, test } from "./session";

// `make screenshot` only: refreshes the README's pictures of the console.
test.skip(!process.env.TANDEM_SCREENSHOT, "set TANDEM_SCREENSHOT=1 (make screenshot)");

test("overview screenshot for the README", async ({ page }) => {
  await page.setViewportSize({ width: 1200, height: 720 });
  await logIn(page);
  await expect(page.locator("[data-hydrated=true]")).toBeVisible();
  await expect(page.getByTestId("summary")).toHaveText("2 of 2 reachable");
  await page.screenshot({ path: "../docs/overview.png" });
});

test("overview in Chinese, for the README", async ({ page, context }) => {
  await page.setViewportSize({ width: 1200, height: 480 });
  await logIn(page);
  await expect(page.locator("[data-hydrated=true]")).toBeVisible();
  await page.getByRole("button", { name: "中文" }).click();
  await expect(page.getByTestId("summary")).toHaveText("2/2 个主集群可访问");
  await page.screenshot({ path: "../docs/overview-zh.png" });
  await context.clearCookies();
});

test("add-cluster wizard after a join, for the README", async ({ page }) => {
  await page.setViewportSize({ width: 1200, height: 800 });
  await logIn(page);
  await openHydrated(page, "/clusters/add");
  await page.getByTestId("add-cluster-form").getByLabel("Cluster name").fill("spare");
  await page.getByTestId("add-cluster-form").getByLabel("Group").selectOption("testing");
  await page.getByTestId("kubeconfig-file").setInputFiles(resolve(demoDir, "spare.kubeconfig"));
  await page.getByTestId("join-cluster").click();
  await expect(page.getByTestId("job-outcome")).toContainText("joined");
  await page.screenshot({ path: "../docs/add-cluster.png", fullPage: true });
});

test("federation page on the conflicts scenario, for the README", async ({ page }) => {
  await page.setViewportSize({ width: 1300, height: 900 });
  await logIn(page);
  await openHydrated(page, "/federation");
  await expect(page.locator("[data-object='user/xxp']")).toHaveAttribute("data-state", "flapping", { timeout: 60_000 });
  await page.screenshot({ path: "../docs/federation.png" });
});
