// Starts `npm start` (test/tools/start.mjs), waits until it says it is running, sends
// SIGINT as Ctrl-C does, and checks by pid that nothing it started is left: code-server
// and its children, sshd and its sessions, the nginx masters and their workers. A browser
// shows the Hosts view first, so the extension holds an SSH connection to the lab as a
// person's session does. Exits 1 when one remains.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const signal = process.argv[2] === 'SIGTERM' ? 'SIGTERM' : 'SIGINT';

/** Every pid under the given roots (children by ppid, read from /proc). */
function descendants(roots) {
  const parent = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  const all = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (all.has(ppid) && !all.has(pid)) {
        all.add(pid);
        grew = true;
      }
    }
  }
  return [...all];
}
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

const child = spawn(process.execPath, ['test/tools/start.mjs'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DISPLAY: '' } });
let out = '';
await new Promise((res, rej) => {
  child.stdout.on('data', (d) => {
    out += d;
    process.stdout.write(d);
    if (out.includes('Cert Ops is running')) res();
  });
  child.on('exit', (code) => rej(new Error(`npm start exited with ${code} before running`)));
});
const url = /http:\/\/127\.0\.0\.1:\d+\/\S+/.exec(out)[0];
const { chromium } = await import('playwright-core');
const { CHROMIUM_ARGS } = await import('./code-server.mjs');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
await page.goto(url);
await page.locator('.activitybar [aria-label^="Cert Ops"]').first().click({ timeout: 60_000 });
// A status read over SSH: the connection to the lab's sshd is open.
await page.locator('.sidebar .monaco-list-row', { hasText: 'served ≠ on disk' }).first().waitFor({ timeout: 60_000 });
const started = JSON.parse(readFileSync(join(ROOT, '.vscode-test', 'start-data', 'pids.json'), 'utf8'));
const pids = descendants([started.start, started.codeServer, ...started.lab]);
console.log(`\n${pids.length} processes started (${pids.join(' ')}); sending ${signal}`);
const exited = new Promise((res) => child.on('exit', (code, sig) => res(code ?? sig)));
child.kill(signal);
console.log(`npm start exited with ${await exited}`);
await browser.close();
const left = pids.filter(alive);
if (left.length) {
  for (const p of left) console.error(`still running: ${p} ${readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ')}`);
  process.exit(1);
}
console.log(`none of the ${pids.length} is running`);
