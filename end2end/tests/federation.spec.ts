import { expect, logIn, openHydrated, test } from "./session";

// The suite's server runs the demo fleet with `--scenario conflicts`: user xxp differs between
// host and host2 and flips on the member, host2's second platform role for xxr cannot sync,
// and zzp is stuck deleting on host.

test.afterEach(async ({ context }) => {
  await context.clearCookies();
});

test("the topology shows both hosts over the shared member", async ({ page }) => {
  // Flapping needs three alternations, about 30 s after the fleet starts when run first.
  test.setTimeout(60_000);
  await logIn(page);
  await page.getByRole("navigation").getByRole("link", { name: "Federation" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Federated objects");
  const picture = page.getByTestId("topology");
  await expect(picture.locator("[data-host=host]")).toContainText("host");
  await expect(picture.locator("[data-host=host2]")).toContainText("host2");
  await expect(picture.locator("[data-member=member]")).toContainText("2 hosts");
  await expect(picture.locator("[data-link=host-member]")).toBeVisible();
  await expect(picture.locator("[data-link=host2-member]")).toBeVisible();
  // The Overview counts the same states, each a link to its objects.
  await openHydrated(page, "/");
  await expect(page.getByTestId("overview-federation").locator("[data-state=flapping]")).not.toContainText(/^0/, { timeout: 40_000 });
});

test("a flapping user is shown with both hosts' versions, and keeping one stops it", async ({ page }) => {
  test.setTimeout(120_000);
  await logIn(page);
  await openHydrated(page, "/federation?state=flapping");
  const row = page.locator("[data-object='user/xxp']");
  await expect(row).toHaveAttribute("data-state", "flapping", { timeout: 10_000 });
  await expect(row.getByTestId("state-badge")).toContainText("host ⇄ host2");
  // The users page says the same, not kubefed's "propagated", and links here.
  await openHydrated(page, "/users?q=xxp");
  const chip = page.locator("[data-testid=user-row][data-user=xxp] [data-cluster=member]");
  await expect(chip).toHaveAttribute("data-verdict", "flapping");
  await expect(chip.getByRole("link", { name: "Flapping" })).toHaveAttribute("href", "/federation?object=user/xxp");
  // So does the clusters page, for the member: the console's verdicts ahead of kubefed's count.
  await openHydrated(page, "/clusters");
  const verdict = page.locator("[data-testid=cluster-row][data-cluster=member] [data-testid=cluster-verdicts] [data-verdict=flapping]");
  await expect(verdict).toContainText("Flapping");
  await expect(verdict).toHaveAttribute("href", "/federation?state=flapping");
  // The role conflict and the stuck delete have their own states.
  await openHydrated(page, "/federation?state=sync-failing");
  await expect(page.locator("[data-object='globalrolebinding/xxr-platform-regular']")).toContainText("CreationFailed");
  await openHydrated(page, "/federation?state=stuck-deleting");
  await expect(page.locator("[data-object='user/zzp']")).toBeVisible();

  await openHydrated(page, "/federation?state=flapping");
  await page.locator("[data-object='user/xxp']").getByRole("link", { name: "xxp" }).click();
  const diff = page.getByTestId("version-diff");
  await expect(diff.locator("th[data-host=host]")).toBeVisible();
  await expect(diff.locator("th[data-host=host2]")).toBeVisible();
  const email = diff.locator("tr", { has: page.locator("th", { hasText: "spec.email" }) });
  await expect(email).toHaveAttribute("data-person-made", "true");
  await expect(email).toContainText("xxp@163.com");
  await expect(email).toContainText("xxp-2@163.com");
  // The salted hash differs too, as a generated field, and never shows.
  const hash = diff.locator("tr", { has: page.locator("th", { hasText: "spec.password" }) });
  await expect(hash).toHaveAttribute("data-person-made", "false");
  await expect(diff).not.toContainText("$2");

  const form = page.getByTestId("pick-winner-form");
  await form.getByLabel("keep host2's").check();
  // Nothing happens before the replacement is confirmed (the server refuses it too).
  await expect(form.getByRole("button", { name: "Keep this version" })).toBeDisabled();
  await form.getByTestId("pick-confirm").check();
  await form.getByRole("button", { name: "Keep this version" }).click();
  // The repair runs in the background; the page follows it step by step.
  const progress = page.getByTestId("repair-progress");
  await expect(progress).toContainText("Keeping host2's version");
  await expect(progress).toHaveAttribute("data-state", "done", { timeout: 70_000 });
  await expect(progress).toContainText("host now carries host2's version");
  await expect(progress).toContainText("Every host now federates the same version");
  await expect(page.getByTestId("no-differences")).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId("state-badge").first()).toContainText("In sync", { timeout: 15_000 });
  await expect(page.getByTestId("audit-log").locator("[data-action=pick-winner]")).toContainText("kept one host's version");
});

test("deleting a stuck user everywhere frees it on every host and member", async ({ page }) => {
  test.setTimeout(120_000);
  await logIn(page);
  await openHydrated(page, "/federation?object=user/zzp");
  const form = page.getByTestId("delete-everywhere-form");
  const button = form.getByRole("button", { name: "Delete everywhere" });
  await expect(button).toBeDisabled();
  await form.getByLabel("Type zzp to confirm").fill("zzp");
  await button.click();
  const progress = page.getByTestId("repair-progress");
  await expect(progress).toContainText("Deleting from every host");
  await expect(progress).toHaveAttribute("data-state", "done", { timeout: 70_000 });
  await expect(progress).toContainText("No host or member holds it any more");
  await expect(page.getByTestId("audit-log").locator("[data-action=coordinated-delete]")).toContainText("deleted on every host");
  await expect(page.getByTestId("object-gone")).toBeVisible();
  await expect(form).toBeHidden(); // nothing left to repair
  await openHydrated(page, "/federation?q=zzp");
  await expect(page.locator("[data-object='user/zzp']")).toHaveCount(0);
});
