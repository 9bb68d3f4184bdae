// Installs the Debian packages a test layer needs when their programs are missing.
// A layer that cannot set itself up must fail loudly, so every failure here throws.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

let updated = false;

/**
 * Ensures each `[program, package]` pair is present, installing the missing
 * packages with apt-get (as root; with sudo otherwise).
 * @param {[string, string][]} wanted absolute program path and the Debian package that provides it
 */
export function ensureDebianPackages(wanted) {
  const missing = [...new Set(wanted.filter(([program]) => !existsSync(program)).map(([, pkg]) => pkg))];
  if (missing.length === 0) return;
  const asRoot = process.getuid?.() === 0;
  const run = (args) => {
    const cmd = asRoot ? args[0] : 'sudo';
    const rest = asRoot ? args.slice(1) : ['-n', ...args];
    const r = spawnSync(cmd, rest, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      encoding: 'utf8',
      timeout: 15 * 60_000,
    });
    if (r.status !== 0) {
      throw new Error(`could not install ${missing.join(' ')}: \`${args.join(' ')}\` exited ${r.status ?? r.signal}\n${(r.stderr || r.stdout || '').slice(-2000)}`);
    }
  };
  process.stderr.write(`installing Debian packages: ${missing.join(' ')}\n`);
  if (!updated) {
    run(['apt-get', 'update', '-qq']);
    updated = true;
  }
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing]);
  const still = wanted.filter(([program]) => !existsSync(program)).map(([program]) => program);
  if (still.length > 0) throw new Error(`installed ${missing.join(' ')} but still missing: ${still.join(' ')}`);
}

/** The Debian packages of the lab layer (real sshd, ssh-agent, sudo, nginx, stunnel4, PostgreSQL 15, Redis, apache2, openssl). */
export const LAB_PACKAGES = [
  ['/usr/sbin/sshd', 'openssh-server'],
  ['/usr/bin/ssh-keygen', 'openssh-client'],
  ['/usr/sbin/nginx', 'nginx'],
  ['/usr/bin/stunnel4', 'stunnel4'],
  ['/usr/bin/openssl', 'openssl'],
  ['/usr/bin/ssh-agent', 'openssh-client'],
  ['/usr/bin/sudo', 'sudo'],
  ['/usr/lib/postgresql/15/bin/postgres', 'postgresql-15'],
  ['/usr/bin/redis-server', 'redis-server'],
  ['/usr/sbin/apache2', 'apache2'],
];

/** The Debian packages the VS Code layer needs: a browser, and headers for code-server's native modules. */
export const VSCODE_PACKAGES = [
  ['/usr/bin/chromium', 'chromium'],
  ['/usr/include/gssapi/gssapi.h', 'libkrb5-dev'],
  ['/usr/include/libsecret-1/libsecret/secret.h', 'libsecret-1-dev'],
  ['/usr/bin/openssl', 'openssl'],
];

/** Version of a program, for the logs; never throws. */
export function versionOf(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n')[0];
  } catch (e) {
    return String(e.stderr || e.message).trim().split('\n')[0];
  }
}
