// The lab fleet both host benchmarks measure against: one sshd + nginx pair per loopback address
// (127.0.0.2…), one endpoint `host<i>/https` each, and the inventory, known_hosts and empty ssh_config
// that point certops at them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pki } from '../fixtures/pki';
import { NginxLab, SshHostLab, startNginx, startSshHost, writeInventory, writeKnownHosts } from '../lab/harness';

/** One lab host: its sshd and the nginx whose files it holds. */
export interface BenchHost { ssh: SshHostLab; nginx: NginxLab }

/** The files that point certops at the fleet. */
export interface FleetFiles { knownHosts: string; sshConfig: string; inventory: string }

/**
 * Starts `count` hosts, host i on 127.0.0.(i+2) serving `served(i)`, pushing each into `labs` as soon as it runs so
 * the caller's `stopFleet` in `finally` stops the ones that started when a later one fails.
 */
export async function startFleet(labs: BenchHost[], count: number, served: (i: number) => { cert: string; key: string }): Promise<void> {
  for (let i = 0; i < count; i++) {
    const address = `127.0.0.${i + 2}`;
    const { cert, key } = served(i);
    const [ssh, nginx] = await Promise.all([startSshHost({ address }), startNginx({ cert, key, host: address })]);
    labs.push({ ssh, nginx });
  }
}

/** Writes known_hosts, an empty ssh_config and the inventory (endpoint `https`, servername host<i>.bench.test, reload by signal) into `dir`. */
export function writeFleetFiles(dir: string, labs: BenchHost[]): FleetFiles {
  const knownHosts = writeKnownHosts(dir, labs.map((l) => l.ssh.knownHostsLine));
  const sshConfig = join(dir, 'ssh_config');
  writeFileSync(sshConfig, '');
  const inventory = writeInventory(dir, {
    hosts: labs.map((l, i) => ({
      name: `host${i}`,
      ssh: { host: l.ssh.host, port: l.ssh.port, user: 'root', identityFile: l.ssh.userKeyPath },
      endpoints: [{
        name: 'https',
        probe: { host: l.nginx.host, port: l.nginx.port, servername: `host${i}.bench.test` },
        files: { cert: l.nginx.certFile, key: l.nginx.keyFile },
        reload: { kind: 'signal', pidFile: join(l.nginx.dir, 'nginx.pid') },
      }],
    })),
  });
  return { knownHosts, sshConfig, inventory };
}

/** SSH logins the fleet's sshds have accepted so far. */
export function acceptedLogins(labs: BenchHost[]): number {
  return labs.reduce((n, l) => n + (l.ssh.log().match(/Accepted publickey/g)?.length ?? 0), 0);
}

/** Stops every host that started. */
export async function stopFleet(labs: BenchHost[]): Promise<void> {
  await Promise.all(labs.flatMap((l) => [l.ssh.stop(), l.nginx.stop()]));
}

/**
 * Runs one fleet benchmark: a fresh Pki, a temporary directory and an empty fleet for `body` to start, all stopped
 * and removed afterwards whatever happens; a failure is printed and sets a failing exit code.
 */
export function runFleetBench(name: string, body: (pki: Pki, dir: string, labs: BenchHost[]) => Promise<void>): void {
  const run = async () => {
    const pki = new Pki();
    const dir = mkdtempSync(join(tmpdir(), `certops-bench-${name}-`));
    const labs: BenchHost[] = [];
    try {
      await body(pki, dir, labs);
    } finally {
      await stopFleet(labs);
      pki.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  run().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
