// `certops status` of 20 endpoints on 20 lab hosts (sshd + nginx on 127.0.0.2…21), beside the shell loop an
// operator would write (ssh + openssl s_client + openssl x509 per host), measured in the same run.
// Prints figures; asserts nothing about time.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { leafExt } from '../fixtures/pki';
import { acceptedLogins, runFleetBench, startFleet, writeFleetFiles } from './fleet';

const ROOT = resolve(__dirname, '..', '..', '..');
const HOSTS = Number(process.env.CERTOPS_BENCH_HOSTS ?? 20);
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

runFleetBench('hosts', async (pki, dir, labs) => {
  await startFleet(labs, HOSTS, (i) => {
    const leaf = pki.issue(`h${i}`, { subject: `/CN=host${i}.bench.test`, ext: leafExt(`DNS:host${i}.bench.test`), notAfter: 90 * 86_400 });
    return { cert: leaf.pem, key: leaf.keyPem };
  });
  const { knownHosts, sshConfig, inventory } = writeFleetFiles(dir, labs);
  const accepted = () => acceptedLogins(labs);

  // The shell loop: per host one ssh for the file and the key's mode, one s_client, two x509.
  const script = labs.map((l, i) => [
    `disk=$(ssh -q -o BatchMode=yes -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -F /dev/null -i ${l.ssh.userKeyPath} -p ${l.ssh.port} root@${l.ssh.host} "cat ${l.nginx.certFile}; stat -c %a ${l.nginx.keyFile}" | openssl x509 -noout -fingerprint -sha256 -enddate -subject)`,
    `served=$(openssl s_client -connect ${l.nginx.host}:${l.nginx.port} -servername host${i}.bench.test </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 -enddate)`,
    `[ "$(echo "$disk" | head -1)" = "$(echo "$served" | head -1)" ] && echo "host${i} ok" || echo "host${i} DIFFERS"`,
  ].join('\n')).join('\n');
  const before = accepted();
  let t0 = process.hrtime.bigint();
  const shell = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
  const shellMs = ms(t0);
  const shellOk = (shell.stdout.match(/ ok$/gm) ?? []).length;
  const afterShell = accepted();

  t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'status', '--inventory', inventory, '--ssh-config', sshConfig, '--known-hosts', knownHosts, '--json'], {
    encoding: 'utf8',
    env: { ...process.env, SSH_AUTH_SOCK: '' },
  });
  const certopsMs = ms(t0);
  const logins = accepted() - afterShell;
  const doc = JSON.parse(r.stdout || '{"endpoints":[]}') as { endpoints: { states: string[] }[] };
  const ok = doc.endpoints.filter((e) => e.states[0] === 'ok').length;

  // The same, one host at a time: how much of the gain is parallelism and how much is per-host cost.
  t0 = process.hrtime.bigint();
  const serial = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'status', '--inventory', inventory, '--ssh-config', sshConfig, '--known-hosts', knownHosts, '--concurrency', '1'], {
    encoding: 'utf8',
    env: { ...process.env, SSH_AUTH_SOCK: '' },
  });
  const serialMs = ms(t0);

  console.log(`${HOSTS} hosts, one endpoint each (sshd + nginx on 127.0.0.2…${HOSTS + 1})`);
  console.log(`  shell loop (ssh + openssl s_client + openssl x509)  ${shellMs.toFixed(0)} ms   ${shellOk}/${HOSTS} compared ok, ${afterShell - before} SSH logins`);
  console.log(`  certops status --json                               ${certopsMs.toFixed(0)} ms   ${ok}/${HOSTS} ok, ${logins} SSH logins (exit ${r.status})`);
  console.log(`  certops status --concurrency 1                      ${serialMs.toFixed(0)} ms   (exit ${serial.status})`);
  console.log(`  ratio certops / shell                               ${(certopsMs / shellMs).toFixed(2)}×   (target ≤ 0.30×)`);
  if (r.status !== 0 || ok !== HOSTS || logins !== HOSTS) {
    console.log(`  PROBLEM: expected every endpoint ok with one SSH login per host\n${r.stderr}${r.stdout.slice(0, 2000)}`);
    process.exitCode = 1;
  }
});
