// Drives the demarc web UI in a real Chromium: sign-in, the matrix and its explain panel (with
// and without JavaScript, by mouse and keyboard), accepting a gap, the history diff, a review
// sign-off, tenancy (404), layout at 1280 and 768 pixels, and no CSP violations or script
// errors. Usage: node ui.spec.mjs BASE_URL (password in DEMARC_PASSWORD). Exits 1 on failure.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const base = process.argv[2];
const password = process.env.DEMARC_PASSWORD;
assert.ok(base && password, "usage: DEMARC_PASSWORD=… node ui.spec.mjs BASE_URL");
const shots =
  process.env.DEMARC_SCREENSHOTS || fs.mkdtempSync(path.join(os.tmpdir(), "demarc-ui-"));
fs.mkdirSync(shots, { recursive: true });
const acme = "/orgs/demo/estates/acme";

const browser = await chromium.launch({
  executablePath: process.env.DEMARC_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const problems = [];
const saved = [];

async function open(who, options = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await ctx.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" || /content security policy/i.test(m.text())) {
      problems.push(`${who}: console ${m.type()}: ${m.text()}`);
    }
  });
  page.on("pageerror", (e) => problems.push(`${who}: script error: ${e.message}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`${who}: HTTP ${r.status()} ${r.url()}`);
  });
  // Init scripts run through the DevTools protocol, outside the page's CSP.
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`),
    );
  });
  return { ctx, page };
}

// The matrix runs to thousands of rows: its shots show the window, the others the whole page.
async function shot(page, name, fullPage = !name.startsWith("matrix") && !name.startsWith("explain-1280")) {
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  saved.push(file);
}

async function noOverflow(page, what) {
  const [scroll, client] = await page.evaluate(() => [
    document.documentElement.scrollWidth,
    document.documentElement.clientWidth,
  ]);
  assert.ok(scroll <= client, `${what}: the page scrolls sideways (${scroll} > ${client})`);
}

async function signIn(page, email) {
  await page.goto(base + acme);
  assert.match(page.url(), /\/login\?next=/, "an anonymous visit goes to the sign-in form");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await Promise.all([
    page.waitForURL((u) => u.pathname === acme),
    page.getByRole("button", { name: "Sign in" }).click(),
  ]);
}

try {
  // ---- editor: matrix, explain, accept a gap, history and diff ----
  {
    const { ctx, page } = await open("editor");
    await signIn(page, "editor@demo.example");
    await page.locator("table.heatmap").waitFor();
    for (const width of [1280, 768]) {
      await page.setViewportSize({ width, height: 900 });
      await noOverflow(page, `matrix at ${width}`);
      await shot(page, `matrix-${width}`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });

    const url = page.url();
    await page.locator("table.heatmap td.cell a").first().click();
    await page.locator("#explain h3", { hasText: "Basis chain" }).waitFor();
    assert.equal(page.url(), url, "htmx loads the panel in place");
    assert.ok((await page.locator("#explain ol.basis li").count()) > 0, "a basis chain");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "explain");
    await shot(page, "explain-1280");

    // Keyboard: focus another cell's link and press Enter.
    const second = page.locator("table.heatmap td.cell a").nth(3);
    const before = await page.locator("#explain h2").textContent();
    await second.focus();
    await page.keyboard.press("Enter");
    await page.waitForFunction(
      (b) => document.querySelector("#explain h2")?.textContent !== b,
      before,
    );

    // Accept the first open gap.
    await page.getByRole("link", { name: "Gaps", exact: true }).click();
    await page.waitForURL((u) => u.pathname === `${acme}/gaps`);
    const row = page.locator("tr", { has: page.locator("details.accept") }).first();
    const key = (await row.locator("input[name=gap]").inputValue()).trim();
    await row.locator("summary", { hasText: "Accept this risk" }).click();
    await row.getByLabel("Reason").fill("Tracked as RISK-42 with the vendor");
    await row.getByLabel("Expires").fill("2099-01-31");
    await Promise.all([
      page.waitForURL((u) => u.pathname === `${acme}/gaps` && u.searchParams.get("accepted") === "2"),
      row.getByRole("button", { name: "Accept gap" }).click(),
    ]);
    await page.getByText("saved as version 2").waitFor();
    await shot(page, "gaps-accepted-1280");
    await page.setViewportSize({ width: 768, height: 900 });
    await noOverflow(page, "gaps at 768");
    await shot(page, "gaps-768");
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.getByRole("link", { name: "History", exact: true }).click();
    const v2 = page.locator("tbody tr", { has: page.locator("th", { hasText: /^2$/ }) });
    assert.match(await v2.textContent(), /accept/);
    assert.match(await v2.textContent(), /editor@demo\.example/);
    await v2.getByRole("link", { name: "changes in 2" }).click();
    await page.getByRole("heading", { name: "Gaps accepted" }).waitFor();
    assert.ok(
      (await page.locator("ul.gap-changes code", { hasText: key }).count()) > 0,
      `the diff names ${key}`,
    );
    await page.getByText("server/acceptances.yaml").waitFor();
    await noOverflow(page, "diff at 1280");
    await shot(page, "diff-1280");

    await page.goto(base + "/");
    for (const width of [1280, 768]) {
      await page.setViewportSize({ width, height: 900 });
      await noOverflow(page, `dashboard at ${width}`);
      await shot(page, `dashboard-${width}`);
    }
    await ctx.close();
  }

  // ---- without JavaScript the cell link is a page of its own ----
  {
    const { ctx, page } = await open("editor, no script", { javaScriptEnabled: false });
    await signIn(page, "editor@demo.example");
    await Promise.all([
      page.waitForURL((u) => u.pathname === `${acme}/explain`),
      page.locator("table.heatmap td.cell a").first().click(),
    ]);
    await page.getByRole("heading", { name: "Basis chain" }).waitFor();
    await shot(page, "explain-no-js");
    await ctx.close();
  }

  // ---- auditor: sign off a review ----
  {
    const { ctx, page } = await open("auditor");
    await signIn(page, "auditor@demo.example");
    await page.getByRole("link", { name: "Reviews", exact: true }).click();
    await page.getByLabel("Review notes").fill("Quarterly review: owners confirmed");
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get("signed") === "3"),
      page.getByRole("button", { name: "Sign off the review" }).click(),
    ]);
    await page.getByText("saved as version 3").waitFor();
    await page.locator("td", { hasText: "Quarterly review: owners confirmed" }).waitFor();
    for (const width of [1280, 768]) {
      await page.setViewportSize({ width, height: 900 });
      await noOverflow(page, `reviews at ${width}`);
      await shot(page, `reviews-signed-${width}`);
    }
    await page.goto(base + acme + "/history");
    assert.match(
      await page.locator("tbody tr", { has: page.locator("th", { hasText: /^3$/ }) }).textContent(),
      /sign-off/,
    );
    for (const tab of ["compliance", "evidence", "contracts", "findings", "drills?run=public-bucket"]) {
      await page.goto(`${base}${acme}/${tab}`);
      await page.setViewportSize({ width: 768, height: 900 });
      await noOverflow(page, `${tab} at 768`);
      await page.setViewportSize({ width: 1280, height: 900 });
      await noOverflow(page, `${tab} at 1280`);
      await shot(page, `${tab.replace(/\?.*/, "")}-1280`);
    }
    await ctx.close();
  }

  // ---- client viewer: another estate by URL is 404 ----
  {
    const { ctx, page } = await open("client");
    await signIn(page, "client@demo.example");
    await page.goto(base + "/");
    assert.equal(await page.locator('a[href="/orgs/demo/estates/startup-saas"]').count(), 0);
    const r = await page.goto(base + "/orgs/demo/estates/startup-saas");
    assert.equal(r.status(), 404, "another client's estate is not found");
    await page.getByText("estate `demo/startup-saas` not found").waitFor();
    await shot(page, "client-404");
    assert.equal(await page.locator("form[action$='/gaps/accept']").count(), 0);
    await page.goto(base + acme + "/gaps");
    assert.equal(await page.locator("form[action$='/gaps/accept']").count(), 0, "no forms");
    await ctx.close();
  }

  // ---- accessibility: axe-core's WCAG 2 A and AA rules on every page ----
  {
    // axe is injected by evaluation; this context alone bypasses the CSP to allow it, so the
    // CSP checks of the other contexts stay real.
    const { ctx, page } = await open("axe", { bypassCSP: true });
    await signIn(page, "editor@demo.example");
    const pages = [
      "/",
      acme,
      `${acme}/gaps`,
      `${acme}/compliance`,
      `${acme}/evidence`,
      `${acme}/contracts`,
      `${acme}/findings`,
      `${acme}/history`,
      `${acme}/history/diff?from=1&to=2`,
      `${acme}/reviews`,
      `${acme}/drills?run=public-bucket`,
    ];
    for (const p of pages) {
      for (const width of [1280, 768]) {
        await page.setViewportSize({ width, height: 900 });
        await page.goto(base + p);
        if (p === acme) {
          await page.locator("table.heatmap td.cell a").first().click();
          await page.locator("#explain h3", { hasText: "Basis chain" }).waitFor();
        }
        await page.evaluate(axeSource);
        const found = await page.evaluate(() =>
          window.axe
            .run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
            .then((r) =>
              r.violations.map(
                (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`,
              ),
            ),
        );
        assert.deepEqual(found, [], `axe at ${width}px on ${p}`);
      }
    }
    await ctx.close();
  }

  // The client's 404 above is expected (the response and the console line it causes);
  // anything else is a failure.
  const expected = [
    `client: HTTP 404 ${base}/orgs/demo/estates/startup-saas`,
    "client: console error: Failed to load resource: the server responded with a status of 404 (Not Found)",
  ];
  const real = problems.filter((p) => !expected.includes(p));
  assert.deepEqual(real, [], "console errors or CSP violations");
  for (const f of saved) console.log(`screenshot: ${f}`);
  console.log("ok: the UI works in Chromium");
} catch (e) {
  for (const f of saved) console.log(`screenshot: ${f}`);
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
