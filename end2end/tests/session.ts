import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test as base, expect, type Page } from "@playwright/test";

export { expect };

/**
 * Every test's pages run under the console's Content-Security-Policy: a script or style the
 * policy blocks (an inline script without the response's nonce, say) fails the test, since
 * the page would be broken for real users too.
 */
export const test = base.extend<{ cspViolations: string[] }>({
  cspViolations: [
    async ({ page }, use) => {
      const violations: string[] = [];
      page.on("console", (message) => {
        if (message.text().includes("Content Security Policy")) violations.push(message.text());
      });
      await use(violations);
      expect(violations, "the Content-Security-Policy blocked something").toEqual([]);
    },
    { auto: true },
  ],
});

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

/** Logs out with the menu's button and waits until the server has ended the session. */
export async function logOut(page: Page) {
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByTestId("login-form")).toBeVisible();
}

/**
 * GET on a demo cluster's API server with its admin kubeconfig, as kubectl would: what the
 * cluster itself holds, not what the console says.
 */
export async function clusterGet(cluster: string, path: string): Promise<{ status: number; body: any }> {
  return clusterRequest(cluster, "GET", path);
}

/** A request to a demo cluster's API server with its admin kubeconfig (`body` sent as JSON). */
export async function clusterRequest(
  cluster: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const { request } = await import("node:https");
  const kubeconfig = readFileSync(resolve(demoDir, `${cluster}.kubeconfig`), "utf8");
  const field = (name: string) => kubeconfig.match(new RegExp(`${name}: (\\S+)`))?.[1] ?? "";
  const server = new URL(field("server"));
  const ca = Buffer.from(field("certificate-authority-data"), "base64");
  return new Promise((done, fail) => {
    const req = request(
      {
        host: server.hostname,
        port: server.port,
        path,
        method,
        ca,
        headers: { Authorization: `Bearer ${field("token")}`, "Content-Type": "application/json" },
      },
      (res) => {
        let text = "";
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => done({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on("error", fail);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
