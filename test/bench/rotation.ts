// `certops rotate` of 20 endpoints on 20 lab hosts (sshd + nginx on 127.0.0.2…21), beside the manual
// runbook as a shell script (test/bench/rotate-runbook.sh: ssh, scp, kill -HUP, openssl s_client),
// run host after host as an operator would, measured in the same run. Prints figures; asserts
// nothing about time.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { CA_EXT, leafExt, ROOT_EXT } from '../fixtures/pki';
import { acceptedLogins, runFleetBench, startFleet, writeFleetFiles } from './fleet';

const ROOT = resolve(__dirname, '..', '..', '..');
const HOSTS = Number(process.env.CERTOPS_BENCH_HOSTS ?? 20);
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

runFleetBench('rotation', async (pki, dir, labs) => {
  const root = pki.issue('root', { subject: '/CN=Bench Root', ext: ROOT_EXT, notAfter: 365 * 86_400 });
  const inter = pki.issue('inter', { subject: '/CN=Bench Intermediate', issuer: root, ext: CA_EXT, notAfter: 300 * 86_400 });
  const leaf = (i: number, tag: string, days: number) => pki.issue(`h${i}-${tag}`, { subject: `/CN=host${i}.bench.test`, issuer: inter, ext: leafExt(`DNS:host${i}.bench.test`), notAfter: days * 86_400 });
  const gens: { a: ReturnType<typeof leaf>; b: ReturnType<typeof leaf> }[] = [];
  await startFleet(labs, HOSTS, (i) => {
    const g = { a: leaf(i, 'a', 60), b: leaf(i, 'b', 120) };
    gens.push(g);
    return { cert: g.a.pem + inter.pem, key: g.a.keyPem };
  });
  const caFile = pki.write('ca.crt', root.pem, 0o644);
  const { knownHosts, sshConfig, inventory } = writeFleetFiles(dir, labs);
  const accepted = () => acceptedLogins(labs);

  // The runbook, host after host: generation a → b.
  const before = accepted();
  let t0 = process.hrtime.bigint();
  let shellOk = 0;
  labs.forEach((l, i) => {
    const full = pki.write(`h${i}-b-full.pem`, gens[i].b.pem + inter.pem, 0o644);
    const r = spawnSync('sh', [join(ROOT, 'test', 'bench', 'rotate-runbook.sh'), l.ssh.host, String(l.ssh.port), l.ssh.userKeyPath, knownHosts, l.nginx.certFile, l.nginx.keyFile,
      join(l.nginx.dir, 'nginx.pid'), full, gens[i].b.keyPath, l.nginx.host, String(l.nginx.port), `host${i}.bench.test`], { encoding: 'utf8' });
    if (r.status === 0) shellOk++;
  });
  const shellMs = ms(t0);
  const shellLogins = accepted() - before;

  // certops, every endpoint in one run (a canary, then the rest 20 at a time): generation b → a wildcard
  // certificate for all (a fleet run places one certificate), the same files placed on every host.
  const wild = pki.issue('wild', { subject: '/CN=*.bench.test', issuer: inter, ext: leafExt('DNS:*.bench.test'), notAfter: 180 * 86_400 });
  const wildFull = pki.write('wild-full.pem', wild.pem + inter.pem, 0o644);
  const afterShell = accepted();
  t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'rotate', ...labs.map((_, i) => `host${i}/https`), '--cert', wildFull, '--key', wild.keyPath, '--ca', caFile,
    '--concurrency', String(HOSTS), '--inventory', inventory, '--ssh-config', sshConfig, '--known-hosts', knownHosts, '--json'], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '' } });
  const certopsMs = ms(t0);
  const logins = accepted() - afterShell;
  const doc = JSON.parse(r.stdout || '{"endpoints":[]}') as { endpoints: { state: string; records: { cutoverMs?: number }[] }[] };
  const ok = doc.endpoints.filter((e) => e.state === 'rotated').length;
  const cutovers = doc.endpoints.map((e) => e.records[e.records.length - 1]?.cutoverMs ?? NaN).filter((n) => !Number.isNaN(n)).sort((a, b) => a - b);

  console.log(`${HOSTS} endpoints, one per host (sshd + nginx on 127.0.0.2…${HOSTS + 1})`);
  console.log(`  runbook script, host after host (ssh, scp, kill -HUP, s_client)  ${shellMs.toFixed(0)} ms   ${shellOk}/${HOSTS} ok, ${shellLogins} SSH logins`);
  console.log(`  certops rotate, one fleet run (canary, then ${HOSTS} at a time)       ${certopsMs.toFixed(0)} ms   ${ok}/${HOSTS} rotated and verified, ${logins} SSH logins, median cutover ${cutovers[cutovers.length >> 1] ?? '?'} ms`);
  console.log(`  ratio certops / script                                           ${(certopsMs / shellMs).toFixed(2)}×   (target ≤ 0.30×)`);
  if (shellOk !== HOSTS || ok !== HOSTS || r.status !== 0) {
    console.log(`  PROBLEM: not every rotation succeeded\n${r.stderr.slice(-1500)}${r.stdout.slice(0, 1500)}`);
    process.exitCode = 1;
  }
});
