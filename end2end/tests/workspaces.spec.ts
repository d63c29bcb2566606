import { expect, logIn, logOut, openHydrated, test } from "./session";

test.afterEach(async ({ context }) => {
  await context.clearCookies();
});

test("admin creates a workspace on the member, adds a member, and deletes it", async ({ page }) => {
  await logIn(page);
  await page.getByRole("navigation").getByRole("link", { name: "Workspaces" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Workspaces");
  await expect(page.locator("[data-hydrated=true]")).toBeVisible();

  await page.getByTestId("create-workspace").click();
  const form = page.getByTestId("create-workspace-form");
  await form.getByLabel("Name").fill("e2e-team");
  await form.getByLabel("Alias").fill("E2E team");
  await expect(form.getByLabel("member")).toBeChecked();
  await form.getByRole("button", { name: "Create" }).click();
  await expect(page.getByTestId("workspace-created")).toContainText("Workspace e2e-team created");

  const row = page.locator("[data-testid=workspace-row][data-workspace=e2e-team]");
  await expect(row).toContainText("E2E team");
  // Placed on the member by the sandbox's kubefed, which reports it in the FederatedWorkspace.
  await expect(row.locator("[data-cluster=member][data-propagated=true]")).toBeVisible({ timeout: 20_000 });
  // The host's controller binds the administrator to <ws>-admin.
  await row.getByText(/Members \(\d+\)/).click();
  await expect(row.locator("[data-member=admin]")).toContainText("admin");

  const add = row.getByTestId("add-member-form");
  await add.getByLabel("User").selectOption("admin");
  await add.getByLabel("Workspace role").selectOption("viewer");
  await add.getByRole("button", { name: "Add member" }).click();
  await expect(row.locator("[data-member=admin]")).toContainText("viewer");

  await row.getByRole("button", { name: "Delete workspace" }).click();
  await row.getByRole("button", { name: "Delete workspace" }).last().click();
  await expect(row).toHaveCount(0, { timeout: 20_000 });
});

test("a platform-regular user sees only their own workspaces and cannot create one", async ({ page }) => {
  await logIn(page);
  await openHydrated(page, "/users");
  await page.getByTestId("create-user").click();
  const form = page.getByTestId("create-user-form");
  await form.getByLabel("Username").fill("e2e-ws-regular");
  await form.getByLabel("Email").fill("e2e-ws-regular@example.com");
  await form.getByLabel("Password").fill("Regular-Pass-1");
  await form.getByRole("button", { name: "Create" }).click();
  await expect(page.locator("[data-testid=user-row][data-user=e2e-ws-regular]")).toBeVisible();
  await openHydrated(page, "/workspaces");
  await page.getByTestId("create-workspace").click();
  const ws = page.getByTestId("create-workspace-form");
  await ws.getByLabel("Name").fill("e2e-admins-only");
  await ws.getByRole("button", { name: "Create" }).click();
  await expect(page.locator("[data-workspace=e2e-admins-only]")).toBeVisible();
  await logOut(page);

  await logIn(page, "e2e-ws-regular", "Regular-Pass-1");
  await page.getByRole("navigation").getByRole("link", { name: "Workspaces" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Workspaces");
  await expect(page.getByTestId("create-workspace")).toHaveCount(0);
  await expect(page.locator("[data-workspace=e2e-admins-only]")).toHaveCount(0);
  await expect(page.getByText("No workspaces yet.")).toBeVisible();
});
