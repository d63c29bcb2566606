import { clusterGet, clusterRequest, expect, logIn, openHydrated, test } from "./session";

// Runs after every spec (playwright.config.ts: project `sync`): turning sync on rewrites the
// demo hosts' users and roles. The article's first experiment, made afresh: one user name
// created on both hosts with different emails, so each host's kubefed pushes its own.

const users = "/apis/iam.kubesphere.io/v1alpha2/users";

test("the plan is reviewed, applied, and the same-name user becomes one", async ({ page }) => {
  test.setTimeout(120_000);
  for (const host of ["host", "host2"]) {
    const made = await clusterRequest(host, "POST", users, {
      apiVersion: "iam.kubesphere.io/v1alpha2",
      kind: "User",
      metadata: { name: "sync-e2e" },
      spec: { email: `sync-e2e@${host}.example.com`, password: "Sync-Pass-1" },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
  }
  await logIn(page);
  await openHydrated(page, "/federation");
  await page.getByTestId("open-sync").click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Two-way sync");
  await expect(page.getByTestId("sync-state")).toContainText("Off: planning only");

  // The plan: what turning sync on writes, and the difference it settles, reviewed first.
  const plan = page.getByTestId("sync-plan");
  await expect(plan.locator("[data-testid=sync-plan-row]", { hasText: "User sync-e2e" }).first()).toBeVisible({
    timeout: 30_000,
  });
  const differences = page.getByTestId("sync-conflicts");
  await expect(differences.locator("tr", { hasText: "User sync-e2e" }).filter({ hasText: "/spec/email" })).toBeVisible();
  await expect(page.locator("main")).not.toContainText("$2");
  const turnOn = page.getByRole("button", { name: "Apply the plan and turn sync on" });
  await expect(turnOn).toBeDisabled();
  await page.getByTestId("sync-confirm").check();
  await turnOn.click();
  await expect(page.getByTestId("sync-state")).toContainText("On", { timeout: 15_000 });
  await expect(page.getByRole("button", { name: "Turn sync off" })).toBeVisible();

  // The email that lost is in the conflict log, and both hosts hold one user.
  const log = page.getByTestId("sync-conflicts");
  await expect(log.locator("tr", { hasText: "User sync-e2e" }).filter({ hasText: "/spec/email" })).toBeVisible({
    timeout: 30_000,
  });
  await expect
    .poll(
      async () => {
        const [a, b] = await Promise.all(["host", "host2"].map((h) => clusterGet(h, `${users}/sync-e2e`)));
        return a.body?.spec?.email === b.body?.spec?.email && a.body?.spec?.password === b.body?.spec?.password;
      },
      { timeout: 30_000 },
    )
    .toBe(true);

  // The federation page shows the user in sync across hosts and the member.
  await openHydrated(page, "/federation?object=user/sync-e2e");
  await expect(page.getByTestId("state-badge").first()).toContainText("In sync", { timeout: 60_000 });

  // The Overview's card says sync is on, and the objects that differed between the hosts
  // (generated fields: timestamps, annotations, salts) are now the same everywhere.
  await openHydrated(page, "/");
  await expect(page.getByTestId("overview-sync")).toContainText("On");
  await expect(page.getByTestId("overview-federation").locator("[data-state=differs]")).toContainText(/^0/, {
    timeout: 40_000,
  });
  await expect(page.getByTestId("overview-federation").locator("[data-state=flapping]")).toContainText(/^0/);

  // 中文: the Sync page in Chinese.
  await openHydrated(page, "/federation?view=sync");
  await page.getByRole("button", { name: "中文" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("双向同步");
  await expect(page.getByTestId("sync-state")).toContainText("已开启");
});
