import type { Page } from "@playwright/test";
import { clusterGet, expect, logIn, logOut, openHydrated, test } from "./session";

test.afterEach(async ({ context }) => {
  await context.clearCookies();
});

async function createUser(page: Page, name: string, password: string, role = "platform-regular") {
  await page.getByTestId("create-user").click();
  const form = page.getByTestId("create-user-form");
  await form.getByLabel("Username").fill(name);
  await form.getByLabel("Email").fill(`${name}@example.com`);
  await form.getByLabel("Platform role").selectOption(role);
  await form.getByLabel("Password").fill(password);
  await form.getByRole("button", { name: "Create" }).click();
}

test("admin creates a user; it is listed and propagated to the member", async ({ page }) => {
  await logIn(page);
  await page.getByRole("navigation").getByRole("link", { name: "Users" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Users");
  await expect(page.locator("[data-testid=user-row][data-user=admin]")).toContainText("platform-admin");

  await createUser(page, "e2e-alice", "Alice-Pass-1");
  await expect(page.getByTestId("user-created")).toContainText("User e2e-alice created");
  const row = page.locator("[data-testid=user-row][data-user=e2e-alice]");
  await expect(row).toContainText("platform-regular");
  // The sandbox's kubefed pushes it to the member and records that in the FederatedUser;
  // the page refreshes on its own.
  await expect(row.locator("[data-cluster=member][data-propagated=true]")).toBeVisible({ timeout: 20_000 });
  await expect(row).toContainText("Active");
  // Read back from the member cluster itself: kubefed's copy, labelled as such.
  const copy = await clusterGet("member", "/apis/iam.kubesphere.io/v1alpha2/users/e2e-alice");
  expect(copy.status).toBe(200);
  expect(copy.body.spec.email).toBe("e2e-alice@example.com");
  expect(copy.body.metadata.labels["kubefed.io/managed"]).toBe("true");

  await page.getByRole("searchbox").fill("e2e-ali");
  await page.getByRole("searchbox").press("Enter");
  await expect(page).toHaveURL(/q=e2e-ali/);
  await expect(page.getByTestId("user-row")).toHaveCount(1);
});

test("the server refuses a weak password and says why", async ({ page }) => {
  await logIn(page);
  await openHydrated(page, "/users");
  await createUser(page, "e2e-weak", "alllowercase1");
  await expect(page.getByTestId("create-user-form").getByRole("alert")).toHaveText(
    "The password must be 8 to 64 characters long and contain a lowercase letter, an uppercase letter and a digit, and no line break.",
  );
  await expect(page.locator("[data-testid=user-row][data-user=e2e-weak]")).toHaveCount(0);
});

test("a same-name user on the other host is refused", async ({ page }) => {
  await logIn(page);
  await openHydrated(page, "/users");
  await createUser(page, "e2e-twin", "Twin-Pass-1");
  await expect(page.locator("[data-testid=user-row][data-user=e2e-twin]")).toBeVisible();
  await logOut(page);

  await logIn(page, "admin", undefined, "host2");
  await openHydrated(page, "/users");
  await createUser(page, "e2e-twin", "Twin-Pass-1");
  await expect(page.getByTestId("create-user-form").getByRole("alert")).toContainText(
    "A user named e2e-twin already exists on host host.",
  );
  // The refusal links to the object as every host holds it.
  await expect(page.getByTestId("other-object-link")).toHaveAttribute("href", "/federation?object=user/e2e-twin");
});

test("a platform-regular user cannot reach user management", async ({ page }) => {
  await logIn(page);
  await openHydrated(page, "/users");
  await createUser(page, "e2e-regular", "Regular-Pass-1");
  await expect(page.locator("[data-testid=user-row][data-user=e2e-regular]")).toBeVisible();
  await logOut(page);

  await logIn(page, "e2e-regular", "Regular-Pass-1");
  await expect(page.getByRole("navigation").getByRole("link", { name: "Users" })).toHaveCount(0);
  await openHydrated(page, "/users");
  await expect(page.getByTestId("error-notice")).toContainText("Your role on this host does not allow this.");
  const call = await page.request.post("/api/list_users", {
    form: { search: "", sort: "name", descending: "false", page: "0" },
  });
  expect(call.status()).toBe(403);
});

test("a user changes their own password and logs in with the new one", async ({ page }) => {
  await logIn(page);
  await openHydrated(page, "/users");
  await createUser(page, "e2e-changer", "First-Pass-1");
  await expect(page.locator("[data-testid=user-row][data-user=e2e-changer]")).toBeVisible();
  await logOut(page);

  await logIn(page, "e2e-changer", "First-Pass-1");
  await page.getByRole("link", { name: "Password" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Change your password");
  await expect(page.locator("[data-hydrated=true]")).toBeVisible();
  const form = page.getByTestId("password-form");
  await form.getByLabel("Current password").fill("Wrong-Pass-1");
  await form.getByLabel("New password", { exact: false }).first().fill("Second-Pass-2");
  await form.getByLabel("New password, again").fill("Second-Pass-2");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(form.getByRole("alert")).toContainText("The current password is not right.");

  await form.getByLabel("Current password").fill("First-Pass-1");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Host clusters");
  await logOut(page);
  await logIn(page, "e2e-changer", "Second-Pass-2");
});

test("an administrator edits a user's email and description", async ({ page }) => {
  await logIn(page);
  await openHydrated(page, "/users");
  await createUser(page, "e2e-edited", "Edited-Pass-1");
  const row = page.locator("[data-testid=user-row][data-user=e2e-edited]");
  await expect(row).toBeVisible();
  await row.getByRole("button", { name: "Edit" }).click();
  const form = page.getByTestId("edit-user-form");
  await expect(form.getByLabel("Email")).toHaveValue("e2e-edited@example.com");
  await form.getByLabel("Email").fill("someone@elsewhere.example");
  await form.getByLabel("Description").fill("on call this week");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(row).toContainText("someone@elsewhere.example");
  const stored = await clusterGet("host", "/apis/iam.kubesphere.io/v1alpha2/users/e2e-edited");
  expect(stored.body.metadata.annotations["kubesphere.io/description"]).toBe("on call this week");
});

test("a refused password change shows its reason in the user's row", async ({ page }) => {
  await logIn(page);
  await openHydrated(page, "/users");
  await createUser(page, "e2e-refused", "Refused-Pass-1");
  const row = page.locator("[data-testid=user-row][data-user=e2e-refused]");
  await expect(row).toBeVisible();
  await row.getByRole("button", { name: "Set password" }).click();
  // Long enough for the browser's own check, too weak for KubeSphere's rule.
  await row.getByLabel("New password for e2e-refused", { exact: false }).fill("alllowercase1");
  await row.getByRole("button", { name: "Set password" }).last().click();
  await expect(row.getByRole("alert")).toHaveText(
    "The password must be 8 to 64 characters long and contain a lowercase letter, an uppercase letter and a digit, and no line break.",
  );
});
