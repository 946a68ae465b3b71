// The status page in a real browser: Debian's headless Chromium, driven over the DevTools
// protocol by playwright-core, loads "/" from the real daemon. A real process of the wrong
// name takes the port an expectation gives to another: the page must show the wrong_owner
// finding with its fix. The right process then takes the port over: the finding must leave
// the page by the page's own refresh, with no reload. Also checked: the filter applies as it
// is typed (no reload), and with JavaScript off the query-string filter still works.
// Screenshots go to ARTIFACT_DIR.
//
//   node status_page_test.mjs PORTWARDEN PORT_HOLDER ARTIFACT_DIR
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const [portwarden, portHolder, artifactDir] = process.argv.slice(2);
if (!artifactDir) {
  console.error('usage: status_page_test.mjs PORTWARDEN PORT_HOLDER ARTIFACT_DIR');
  process.exit(2);
}
let chromium;
try {
  ({ chromium } = createRequire(import.meta.url)('playwright-core'));
} catch (e) {
  console.error('playwright-core is not installed next to this script: run scripts/install-deps.sh ' +
                '(it runs npm ci in tests/browser)');
  process.exit(1);
}
const kChromium = process.env.CHROMIUM || '/usr/bin/chromium';
// Generous: the machine running this may be loaded. The page refreshes every 5 s.
const kDeadlineMs = 90_000;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `pw-issue18b-${process.pid}-`));
const children = [];
let browser = null;

function log(...args) { console.log('status_page_test:', ...args); }

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function connects(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

async function pollUntil(what, check, deadlineMs = kDeadlineMs) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function start(argv, name) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (d) => { child.output += d; });
  child.stderr.on('data', (d) => { child.output += d; });
  child.label = name;
  children.push(child);
  return child;
}

// port_holder under another name: the process name is what expectations match.
async function holder(name, port) {
  const exe = path.join(tmp, name);
  if (!fs.existsSync(exe)) fs.copyFileSync(portHolder, exe), fs.chmodSync(exe, 0o755);
  const child = start([exe, '127.0.0.1', String(port)], name);
  await pollUntil(`${name} listening on ${port}`, () => connects(port));
  return child;
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function main() {
  fs.mkdirSync(artifactDir, { recursive: true });
  const port = await freePort();
  const config = path.join(tmp, 'portwarden.yml');
  fs.writeFileSync(config, [
    'expect:',
    '  - name: web',
    `    listen: 127.0.0.1:${port}/tcp`,
    '    owner: {process: pw18b-web}',
    '',
  ].join('\n'));

  // The wrong process holds the expected port before the daemon starts.
  let squatter = await holder('pw18b-squat', port);
  const daemon = start([portwarden, `--config.file=${config}`,
                        '--web.listen-address=127.0.0.1:0', '--collect.interval=500ms'], 'portwarden');
  let base = '';
  await pollUntil('the daemon to log its address', () => {
    const m = /address(?:=|":")\S*?:(\d+)/.exec(daemon.output);
    if (m) base = `http://127.0.0.1:${m[1]}`;
    return m !== null;
  }, 30_000);
  log('daemon at', base, 'expected port', port);

  browser = await chromium.launch({
    executablePath: kChromium,
    headless: true,
    // playwright-core gives every launch a fresh temporary profile (--user-data-dir).
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  let loads = 0;  // document loads; history.replaceState (the filter) is none
  page.on('load', () => { loads++; });
  const externalRequests = [];
  page.on('request', (r) => { if (!r.url().startsWith(base)) externalRequests.push(r.url()); });

  await page.goto(`${base}/`);
  // A marker that a reload would wipe out.
  await page.evaluate(() => { window.pw18bMarker = 'still the first load'; });
  const finding = 'li.finding[data-kind="wrong_owner"]';
  await page.waitForSelector(finding, { timeout: kDeadlineMs });
  const text = await page.textContent(finding);
  log('finding on the page:', text.replace(/\s+/g, ' ').trim());
  check(text.includes('pw18b-squat'), 'the finding names the squatter');
  check(text.includes(`127.0.0.1:${port}`), 'the finding names the address');
  check((await page.textContent(`${finding} .fix code`)).trim().length > 0, 'the finding has a fix');
  check(/does not hold/.test(await page.textContent('tr[data-rule="web"]')),
        'the expectation "web" does not hold');
  await page.waitForSelector('#events tr[data-type="finding_raised"]', { timeout: kDeadlineMs });
  // Findings come first: above the expectations, events and listeners.
  const order = await page.evaluate(() => ['findings', 'expectations', 'events', 'listeners']
      .map((id) => document.getElementById(id).getBoundingClientRect().top));
  check(order.every((y, i) => i === 0 || order[i - 1] < y), `sections in order: ${order}`);

  // The filter applies while typing, without a reload.
  await page.fill('#filter input[name="q"]', `port:${port}`);
  await page.waitForFunction(
      (p) => {
        const rows = [...document.querySelectorAll('#listener-table tr')].slice(1);
        return rows.length > 0 && rows.every((r) => r.cells[2].textContent === String(p));
      }, port, { timeout: kDeadlineMs });
  check(new URL(page.url()).searchParams.get('q') === `port:${port}`, 'the URL keeps the filter');
  const shot = path.join(artifactDir, 'status-page-finding.png');
  await page.fill('#filter input[name="q"]', '');
  await page.waitForFunction(() => !document.getElementById('shown'), null, { timeout: kDeadlineMs });
  await page.screenshot({ path: shot, fullPage: true });
  log('screenshot with the finding:', shot);

  // Without JavaScript: the server filters and sorts from the query string.
  const plain = await browser.newContext({ javaScriptEnabled: false });
  const noJs = await plain.newPage();
  await noJs.goto(`${base}/?q=pw18b-squat&sort=port&order=desc`);
  const cells = await noJs.$$eval('#listener-table tr', (rows) =>
    rows.slice(1).map((r) => [r.cells[2].textContent, r.cells[5].textContent]));
  check(cells.length === 1 && cells[0][0] === String(port) && cells[0][1] === 'pw18b-squat',
        `without JavaScript the filter leaves the squatter only: ${JSON.stringify(cells)}`);
  check((await noJs.textContent('#refresh')).includes('reload'), 'no script ran');
  await plain.close();

  // The fix: the squatter goes, the expected process takes the port.
  await stop(squatter);
  squatter = null;
  await holder('pw18b-web', port);
  await page.waitForSelector(finding, { state: 'detached', timeout: kDeadlineMs });
  await page.waitForFunction(
      () => /holds/.test(document.querySelector('tr[data-rule="web"]').textContent) &&
            !/does not/.test(document.querySelector('tr[data-rule="web"]').textContent),
      null, { timeout: kDeadlineMs });
  await page.waitForSelector('#events tr[data-type="finding_resolved"]', { timeout: kDeadlineMs });
  check(await page.evaluate(() => window.pw18bMarker) === 'still the first load',
        'the page was not reloaded');
  check(loads === 1, `one document load only, saw ${loads}`);
  check(/live: updated/.test(await page.textContent('#refresh')), 'the refresh status shows');
  const fixed = path.join(artifactDir, 'status-page-fixed.png');
  await page.screenshot({ path: fixed, fullPage: true });
  log('screenshot after the fix:', fixed);

  check(errors.length === 0, `no script errors: ${errors.join('; ')}`);
  check(externalRequests.length === 0, `no other origin: ${externalRequests.join(', ')}`);
  check(daemon.exitCode === null, 'the daemon kept running');
  log('ok');
}

let status = 0;
try {
  await main();
} catch (e) {
  status = 1;
  console.error('status_page_test: FAILED:', e.message);
  for (const c of children) console.error(`--- ${c.label} output ---\n${c.output.slice(-4000)}`);
}
await cleanup();
process.exit(status);
