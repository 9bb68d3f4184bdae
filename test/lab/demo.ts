/**
 * The demo lab of `npm start` and of the person-level UI tests: one sshd host on
 * loopback with two nginx endpoints, an inventory and a known_hosts entry in the
 * workspace, and a renewed certificate with its key ready to rotate. Built from
 * the lab harness, so there is one way to start these servers.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CA_EXT, DAY, leafExt, Pki, ROOT_EXT } from '../fixtures/pki';
import { NginxLab, SshHostLab, startNginx, startSshHost, writeInventory, writeKnownHosts } from './harness';

/** What the demo lab started and wrote; stop() ends every process it started. */
export interface DemoLab {
  /** The inventory, `certops.json` in the workspace. */
  inventory: string;
  /** The known_hosts file holding the lab host's key (for `certops.ssh.knownHostsFile`). */
  knownHosts: string;
  /** An empty OpenSSH client configuration (for `certops.ssh.configFile`), so `~/.ssh/config` does not apply. */
  sshConfig: string;
  /** The renewed certificate (leaf and intermediate) and its key, ready to rotate onto `expiring`. */
  renewedCert: string;
  renewedKey: string;
  /** The VS Code user settings the lab needs. */
  settings: Record<string, unknown>;
  /** Pids of the daemons (sshd, nginx masters); their workers are their children. */
  pids(): number[];
  stop(): Promise<void>;
}

const SAN = 'DNS:demo.certops.test,IP:127.0.0.1';

/**
 * Starts the demo lab for the workspace folder `workspace`: host `demo` with the
 * endpoints `expiring` (nginx serving a certificate that expires in 4 days) and
 * `renewed` (the file on disk renewed, nginx still serving the old one).
 */
export async function startDemoLab(workspace: string): Promise<DemoLab> {
  const pki = new Pki();
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    pki.dispose();
  };
  try {
    const root = pki.issue('root', { subject: '/O=Cert Ops Demo/CN=Cert Ops Demo Root', ext: ROOT_EXT, notAfter: 3650 * DAY });
    const inter = pki.issue('inter', { subject: '/O=Cert Ops Demo/CN=Cert Ops Demo Intermediate', issuer: root, ext: CA_EXT, notAfter: 1825 * DAY });
    const soon = pki.issue('soon', { subject: '/CN=demo.certops.test', issuer: inter, ext: leafExt(SAN), notAfter: 4 * DAY });
    const next = pki.issue('next', { subject: '/CN=demo.certops.test', issuer: inter, ext: leafExt(SAN), notAfter: 90 * DAY });
    const old = pki.issue('old', { subject: '/CN=demo.certops.test', issuer: inter, ext: leafExt(SAN), notAfter: 20 * DAY });
    const fresh = pki.issue('fresh', { subject: '/CN=demo.certops.test', issuer: inter, ext: leafExt(SAN), notAfter: 120 * DAY });

    const expiring: NginxLab = await startNginx({ cert: soon.pem + inter.pem, key: soon.keyPem });
    started.push(expiring);
    const renewed: NginxLab = await startNginx({ cert: old.pem + inter.pem, key: old.keyPem });
    started.push(renewed);
    // Renewed on disk, never reloaded: nginx keeps serving `old` until a reload.
    writeFileSync(renewed.certFile, fresh.pem + inter.pem);
    writeFileSync(renewed.keyFile, fresh.keyPem, { mode: 0o600 });
    for (const n of [expiring, renewed]) writeFileSync(join(n.dir, 'ca.crt'), root.pem);
    const ssh: SshHostLab = await startSshHost();
    started.push(ssh);

    const endpoint = (name: string, n: NginxLab) => ({
      name,
      probe: { host: n.host, port: n.port, servername: 'demo.certops.test' },
      files: { cert: n.certFile, key: n.keyFile, ca: join(n.dir, 'ca.crt') },
      reload: { kind: 'signal', pidFile: join(n.dir, 'nginx.pid') },
    });
    const inventory = writeInventory(workspace, {
      hosts: [{
        name: 'demo',
        ssh: { host: ssh.host, port: ssh.port, user: ssh.username, identityFile: ssh.userKeyPath },
        endpoints: [endpoint('expiring', expiring), endpoint('renewed', renewed)],
      }],
    });
    const knownHosts = writeKnownHosts(workspace, [ssh.knownHostsLine], '.certops-known_hosts');
    const sshConfig = join(workspace, '.certops-ssh_config');
    writeFileSync(sshConfig, '');
    const renewedDir = join(workspace, 'renewed');
    mkdirSync(renewedDir, { recursive: true });
    const renewedCert = join(renewedDir, 'demo.crt');
    const renewedKey = join(renewedDir, 'demo.key');
    writeFileSync(renewedCert, next.pem + inter.pem);
    writeFileSync(renewedKey, next.keyPem, { mode: 0o600 });
    const pidOf = (file: string) => Number(readFileSync(file, 'utf8').trim());
    return {
      inventory,
      knownHosts,
      sshConfig,
      renewedCert,
      renewedKey,
      settings: {
        'certops.ssh.knownHostsFile': knownHosts,
        'certops.ssh.configFile': sshConfig,
        // The quick-input open dialog is the one a person (and the UI tests) type a path into.
        'files.simpleDialog.enable': true,
      },
      pids: () => [pidOf(join(ssh.dir, 'sshd.pid')), pidOf(join(expiring.dir, 'nginx.pid')), pidOf(join(renewed.dir, 'nginx.pid'))],
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
