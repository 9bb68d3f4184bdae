// What the lab suites that drive the certops CLI over SSH share: their CA, the client-side SSH files and the CLI run.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CA_EXT, DAY, Issued, Pki, ROOT_EXT } from '../fixtures/pki';
import { freePort, NginxLab, waitForPort, writeKnownHosts } from './harness';

/** A suite's own root (`<label> Lab Root`, 365 days) and intermediate (`<label> Lab Intermediate`, 300 days). */
export function labCa(pki: Pki, label: string): { root: Issued; inter: Issued } {
  const root = pki.issue('root', { subject: `/CN=${label} Lab Root`, ext: ROOT_EXT, notAfter: 365 * DAY });
  const inter = pki.issue('inter', { subject: `/CN=${label} Lab Intermediate`, issuer: root, ext: CA_EXT, notAfter: 300 * DAY });
  return { root, inter };
}

/** Lower-case hex SHA-256 of a DER encoding, as certops prints fingerprints. */
export const sha256Hex = (der: Uint8Array): string => createHash('sha256').update(der).digest('hex');

/** An empty ssh_config (so no user or system configuration applies) and a known_hosts with `lines`, in `dir`. */
export function writeSshClientFiles(dir: string, lines: string[]): { sshConfig: string; knownHosts: string } {
  const sshConfig = join(dir, 'ssh_config');
  writeFileSync(sshConfig, '');
  return { sshConfig, knownHosts: writeKnownHosts(dir, lines) };
}

/** The built CLI's result. */
export interface CliResult { status: number; stdout: string; stderr: string }

/** Runs the built CLI without colour, without an SSH agent and with no terminal input. */
export function runCli(args: string[]): CliResult {
  return spawnSync(process.execPath, [resolve('dist/cli.js'), ...args], {
    encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', SSH_AUTH_SOCK: '' }, stdin: 'ignore',
  } as never) as unknown as CliResult;
}

/** The lab's TLS server that reloads by polling its files or on its own command (see its usage line). */
export const POLLING_SERVER = resolve('test/fixtures/polling-tls-server.mjs');

/** The shell command that makes the polling server listening on the unix socket `control` reload its files. */
export const reloadCertsCommand = (control: string): string => `${process.execPath} ${resolve('test/fixtures/reload-certs.mjs')} ${control}`;

/**
 * Starts the polling server on a free loopback port with `args` (--cert, --key, ...), its output appended to
 * `logFile`; pushes it to `children` (for the suite's `after` to kill) and resolves with the port once it listens.
 */
export async function startPollingServer(children: ChildProcess[], logFile: string, args: string[]): Promise<number> {
  const port = await freePort();
  const out = openSync(logFile, 'a');
  children.push(spawn(process.execPath, [POLLING_SERVER, '--port', String(port), ...args], { stdio: ['ignore', out, out] }));
  await waitForPort('127.0.0.1', port, 10_000, () => readFileSync(logFile, 'utf8'));
  return port;
}

/** The inventory endpoint `https` for a lab nginx serving lab.certops.test: probed through SSH, reloaded by SIGHUP from its pid file. */
export function nginxEndpoint(nginx: NginxLab, caFile: string) {
  return {
    name: 'https',
    probe: { host: '127.0.0.1', port: nginx.port, servername: 'lab.certops.test', via: 'ssh' },
    files: { cert: nginx.certFile, key: nginx.keyFile, ca: caFile },
    reload: { kind: 'signal', signal: 'HUP', pidFile: join(nginx.dir, 'nginx.pid') },
  };
}
