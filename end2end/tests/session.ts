import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect, type Page } from "@playwright/test";

/** The demo fleet's data directory: playwright.config.ts starts the server on it. */
export const demoDir = resolve(__dirname, "../../target/e2e-demo");

/** The admin password the demo fleet generated and printed at start. */
export function adminPassword(): string {
  return readFileSync(resolve(demoDir, "admin-password"), "utf8").trim();
}

/** Clicks do nothing before hydration: wait for the mark the app sets once it is live. */
export async function openHydrated(page: Page, path = "/") {
  await page.goto(path);
  await expect(page.locator("[data-hydrated=true]")).toBeVisible();
}

/** Logs in through the login page, as a person would. */
export async function logIn(page: Page, username = "admin", password = adminPassword(), host = "host") {
  await openHydrated(page, "/login");
  const form = page.getByTestId("login-form");
  await form.getByLabel("Host cluster").selectOption(host);
  await form.getByLabel("Username").fill(username);
  await form.getByLabel("Password").fill(password);
  await form.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("signed-in-user")).toHaveText(username);
  await expect(page.locator("[data-hydrated=true]")).toBeVisible();
}
