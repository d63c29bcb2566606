import { adminPassword, expect, logIn, openHydrated, test } from "./session";

test.afterEach(async ({ context }) => {
  await context.clearCookies();
});

test("a page without a session sends you to log in, and back after", async ({ page }) => {
  await page.goto("/no/such/page");
  await expect(page).toHaveURL(/\/login\?next=%2Fno%2Fsuch%2Fpage|\/login\?next=\/no\/such\/page/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Log in");
  await expect(page.getByRole("navigation")).toHaveCount(0);
  await expect(page.locator("[data-hydrated=true]")).toBeVisible();
  const form = page.getByTestId("login-form");
  await form.getByLabel("Username").fill("admin");
  await form.getByLabel("Password").fill(adminPassword());
  await form.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/no\/such\/page$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
});

test("a wrong password shows the error and no session starts", async ({ page, context }) => {
  await openHydrated(page, "/login");
  const form = page.getByTestId("login-form");
  await form.getByLabel("Username").fill("admin");
  await form.getByLabel("Password").fill("Not-The-Password-1");
  await form.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Incorrect username or password.");
  await expect(page).toHaveURL(/\/login/);
  const cookies = await context.cookies();
  expect(cookies.find((c) => c.name === "tandem_session")).toBeUndefined();
});

test("admin logs in, sees the fleet, and logging out ends the session", async ({ page, context }) => {
  await logIn(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Host clusters");
  await expect(page.getByTestId("summary")).toHaveText("2 of 2 reachable");
  await expect(page.getByTestId("user-menu")).toContainText("platform-admin");

  const session = (await context.cookies()).find((c) => c.name === "tandem_session");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Lax");

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login/);
  // The old token is refused by the server even if someone kept it.
  const replay = await page.request.post("/api/host_statuses", {
    headers: { Cookie: `tandem_session=${session!.value}; tandem_host=host`, "Content-Type": "application/x-www-form-urlencoded" },
    data: "",
  });
  expect(replay.status()).toBe(401);
});

test("logging in by email works and the login page is translated", async ({ page }) => {
  await openHydrated(page, "/login");
  await page.getByRole("button", { name: "中文" }).click();
  const form = page.getByTestId("login-form");
  await expect(form.getByRole("button", { name: "登录" })).toBeVisible();
  await form.getByLabel("用户名").fill("admin@kubesphere.io");
  await form.getByLabel("密码").fill(adminPassword());
  await form.getByRole("button", { name: "登录" }).click();
  await expect(page.getByTestId("signed-in-user")).toHaveText("admin");
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the login form still works, and a wrong password comes back with the error", async ({ page }) => {
    await page.goto("/login");
    const form = page.getByTestId("login-form");
    await form.getByLabel("Username").fill("admin");
    await form.getByLabel("Password").fill("Not-The-Password-1");
    await form.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(/\/login\?error=incorrect/);
    await expect(page.getByRole("alert")).toHaveText("Incorrect username or password.");

    await form.getByLabel("Username").fill("admin");
    await form.getByLabel("Password").fill(adminPassword());
    await form.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Host clusters");
  });
});
