import { readFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { resolve } from "node:path";
import { clusterGet, demoDir, expect, logIn, openHydrated, test } from "./session";

const STEPS = [
  "kubeconfig",
  "connection",
  "permissions",
  "duplicate",
  "kubesphere",
  "other-hosts",
  "jwt-secret",
  "certificate",
  "workspaces",
];

test("the cluster list shows the host's clusters with their status", async ({ page }) => {
  await logIn(page);
  await page.getByRole("link", { name: "Clusters" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Clusters");
  const member = page.locator("[data-testid=cluster-row][data-cluster=member]");
  await expect(member).toContainText("ready");
  await expect(member).toContainText("v3.4.1");
  await expect(page.locator("[data-testid=cluster-row][data-cluster=host]")).toContainText("host");
  await page.getByTestId("cluster-search").fill("memb");
  await expect(page.locator("[data-testid=cluster-row]")).toHaveCount(1);
});

test("upload the spare member's kubeconfig, watch every check pass, join it and see it Ready", async ({ page }) => {
  test.setTimeout(60_000);
  await logIn(page);
  await openHydrated(page, "/clusters/add");
  const form = page.getByTestId("add-cluster-form");
  await form.getByLabel("Cluster name").fill("spare");
  await form.getByLabel("Group").selectOption("testing");
  await page.getByTestId("kubeconfig-file").setInputFiles(resolve(demoDir, "spare.kubeconfig"));
  await expect(form.getByLabel("Kubeconfig", { exact: true })).toHaveValue(/apiVersion: v1/);
  await page.getByTestId("run-checks").click();
  const steps = page.getByTestId("check-step");
  await expect(steps).toHaveCount(STEPS.length);
  for (const step of STEPS) {
    await expect(page.locator(`[data-testid=check-step][data-step=${step}]`)).toHaveAttribute("data-verdict", "passed");
  }
  await expect(page.getByTestId("job-outcome")).toContainText("Every check passed");

  await page.getByTestId("join-cluster").click();
  await expect(page.getByTestId("job-outcome")).toContainText("Cluster spare joined host.");
  await expect(page.getByTestId("join-actions")).toContainText("Cluster spare — created");
  const stored = await clusterGet("host", "/apis/cluster.kubesphere.io/v1alpha1/clusters/spare");
  expect(stored.status).toBe(200);
  expect(stored.body.metadata.labels["cluster.kubesphere.io/group"]).toBe("testing");

  await page.getByRole("link", { name: "See it in the list" }).click();
  const row = page.locator("[data-testid=cluster-row][data-cluster=spare]");
  await expect(row).toContainText("ready");
  await expect(page.locator("[data-hydrated=true]")).toBeVisible();

  // Edit it in place: the list follows.
  await row.getByRole("button", { name: "spare" }).click();
  const edit = row.getByTestId("edit-cluster-form");
  await edit.getByLabel("Description").fill("edge lab");
  await edit.getByLabel("Group").selectOption("demo");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit.getByRole("status")).toHaveText("Saved.");
  await expect(row).toContainText("edge lab", { timeout: 15_000 });

  // Remove it again, confirming with its name.
  const remove = row.getByTestId("remove-cluster-form");
  await remove.getByLabel("Type spare to confirm").fill("spare");
  await remove.getByRole("button", { name: "Remove cluster" }).click();
  await expect(row.getByTestId("removal-result")).toContainText("Cluster spare was removed.");
  expect((await clusterGet("host", "/apis/cluster.kubesphere.io/v1alpha1/clusters/spare")).status).toBe(404);
});

test("a member with another jwtSecret fails that step, with the fix", async ({ page }) => {
  await logIn(page);
  await openHydrated(page, "/clusters/add");
  const form = page.getByTestId("add-cluster-form");
  await form.getByLabel("Cluster name").fill("stranger");
  await page.getByTestId("kubeconfig-file").setInputFiles(resolve(demoDir, "stranger.kubeconfig"));
  await expect(form.getByLabel("Kubeconfig", { exact: true })).toHaveValue(/apiVersion: v1/);
  await page.getByTestId("join-cluster").click();
  const jwt = page.locator("[data-testid=check-step][data-step=jwt-secret]");
  await expect(jwt).toHaveAttribute("data-verdict", "failed");
  await expect(jwt).toContainText("differs");
  await expect(jwt).toContainText("patch clusterconfiguration ks-installer");
  await expect(page.getByTestId("job-outcome")).toContainText("jwtSecret");
  expect((await clusterGet("host", "/apis/cluster.kubesphere.io/v1alpha1/clusters/stranger")).status).toBe(404);
});

/** Three lowercase Latin words in a row, outside code (elements or `quoted`): an English
 * sentence. Names with a dash, dot or slash (`kube-system`, `v3.4.1`) are one token. */
function englishRun(text: string): string | null {
  const words = text.replace(/`[^`]*`/g, " ").split(/[^A-Za-z0-9'\-._/]+/);
  for (let i = 0; i + 2 < words.length; i++) {
    const three = words.slice(i, i + 3);
    if (three.every((w) => /^[a-z]{2,}$/.test(w))) return three.join(" ");
  }
  return null;
}

test("the 中文 wizard, on a member with another jwtSecret, shows no English sentence", async ({ page }) => {
  await logIn(page);
  await openHydrated(page, "/clusters/add");
  await page.getByRole("button", { name: "中文" }).click();
  const form = page.getByTestId("add-cluster-form");
  await form.locator("input[name=name]").fill("stranger");
  await page.getByTestId("kubeconfig-file").setInputFiles(resolve(demoDir, "stranger.kubeconfig"));
  await page.getByTestId("join-cluster").click();
  await expect(page.getByTestId("job-outcome")).toBeVisible({ timeout: 30_000 });
  const jwt = page.locator("[data-testid=check-step][data-step=jwt-secret]");
  await expect(jwt).toHaveAttribute("data-verdict", "failed");
  await expect(jwt).toContainText("jwtSecret 与 `host` 的不同".replaceAll("`", ""));
  // Everything the page shows but code (commands, names) and the kubeconfig itself.
  const shown = await page.locator("main").evaluate((main) => {
    const copy = main.cloneNode(true) as HTMLElement;
    copy.querySelectorAll("code, textarea, datalist, script").forEach((e) => e.remove());
    return copy.innerText ?? copy.textContent ?? "";
  });
  for (const line of shown.split("\n")) {
    expect(englishRun(line), `English in the 中文 wizard: ${line}`).toBeNull();
  }
  expect((await clusterGet("host", "/apis/cluster.kubesphere.io/v1alpha1/clusters/stranger")).status).toBe(404);
});

test("a kubeconfig aimed at the cloud metadata service is refused before connecting, in English and 中文", async ({ page }) => {
  await logIn(page);
  await openHydrated(page, "/clusters/add");
  const form = page.getByTestId("add-cluster-form");
  await form.getByLabel("Cluster name").fill("metadata");
  const spare = readFileSync(resolve(demoDir, "spare.kubeconfig"), "utf8");
  const hostile = spare.replace(/server: \S+/, "server: https://169.254.169.254/latest/meta-data/");
  await form.getByLabel("Kubeconfig", { exact: true }).fill(hostile);
  await page.getByTestId("run-checks").click();
  const step = page.locator("[data-testid=check-step][data-step=kubeconfig]");
  await expect(step).toHaveAttribute("data-verdict", "failed");
  await expect(step.getByTestId("step-summary")).toContainText("169.254.169.254 is a cloud metadata service");
  await expect(step).toContainText("No setting makes the console connect here.");
  await expect(page.locator("[data-testid=check-step][data-step=connection]")).toHaveAttribute("data-verdict", "skipped");

  await page.getByRole("button", { name: "中文" }).click();
  await expect(step.getByTestId("step-summary")).toContainText("169.254.169.254 是云平台的元数据服务");
  await expect(step).toContainText("任何设置都不会让控制台连接此地址");
  await page.getByRole("button", { name: "English" }).click();
});

test("a kubeconfig aimed at a metadata host name or at the console itself is refused before connecting", async ({ page, baseURL }) => {
  await logIn(page);
  await openHydrated(page, "/clusters/add");
  const form = page.getByTestId("add-cluster-form");
  await form.getByLabel("Cluster name").fill("inward");
  const spare = readFileSync(resolve(demoDir, "spare.kubeconfig"), "utf8");
  const console = new URL(baseURL!).host; // 127.0.0.1:<port>, where this console listens
  for (const [server, says] of [
    ["https://metadata.google.internal", "metadata.google.internal is a cloud metadata service"],
    [`https://${console}`, `${console} is this console's own address.`],
  ]) {
    await form.getByLabel("Kubeconfig", { exact: true }).fill(spare.replace(/server: \S+/, `server: ${server}`));
    await page.getByTestId("run-checks").click();
    const step = page.locator("[data-testid=check-step][data-step=kubeconfig]");
    await expect(step.getByTestId("step-summary")).toContainText(says);
    await expect(step).toHaveAttribute("data-verdict", "failed");
    await expect(page.locator("[data-testid=check-step][data-step=connection]")).toHaveAttribute("data-verdict", "skipped");
  }
});

test("leaving the wizard mid-check stops following the job and leaves the console healthy", async ({ page }) => {
  // A loopback "API server" that takes connections and never answers: the connection
  // step waits for its timeout, so the job is still running when the page is left.
  const silent = createServer(() => {});
  await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
  const port = (silent.address() as AddressInfo).port;
  try {
    const crashes: string[] = [];
    page.on("pageerror", (error) => crashes.push(error.message));
    await logIn(page);
    await openHydrated(page, "/clusters/add");
    const form = page.getByTestId("add-cluster-form");
    await form.getByLabel("Cluster name").fill("silent");
    const spare = readFileSync(resolve(demoDir, "spare.kubeconfig"), "utf8");
    await form.getByLabel("Kubeconfig", { exact: true }).fill(spare.replace(/server: \S+/, `server: https://127.0.0.1:${port}`));
    let polls = 0;
    page.on("request", (request) => {
      if (request.url().includes("/api/cluster_job")) polls += 1;
    });
    await page.getByTestId("run-checks").click();
    await expect(page.locator("[data-testid=check-step][data-step=connection]")).toHaveAttribute("data-verdict", "running");
    await expect.poll(() => polls).toBeGreaterThan(1);

    await page.getByRole("link", { name: "Clusters", exact: true }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Clusters");
    const left = polls;
    await page.waitForTimeout(1_500);
    // At most the poll that was in flight: the wizard's timer went with the page.
    expect(polls - left).toBeLessThanOrEqual(1);
    await expect(page.locator("[data-testid=cluster-row][data-cluster=member]")).toContainText("ready");
    expect(crashes).toEqual([]);
  } finally {
    silent.close();
  }
});
