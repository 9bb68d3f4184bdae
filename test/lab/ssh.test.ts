// The SSH layer against real OpenSSH sshd: logins (key, agent, encrypted key, password), host keys
// (unknown, changed, hashed, revoked), ProxyJump, sudo, quoting, and failing fast when unreachable.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { HostEntry } from '../../server/src/inventory';
import { Prompts, SshError, SshPool } from '../../server/src/ssh';
import {
  createLabUser, freePort, generateUserKey, hashedKnownHostsLine, LabUser, SshHostLab, startSshAgent, startSshHost, writeKnownHosts,
} from './harness';

const LAB_USER = 'certopslab';
const NOPW_USER = 'certopslabpw';
let target: SshHostLab;
let bastion: SshHostLab;
let sudoUser: LabUser;
let pwUser: LabUser;
let dir: string;
let knownHosts: string;
let emptyConfig: string;

/** Prompts that record what was asked and answer from a script. */
function recordingPrompts(answers: { hostKey?: 'once' | 'save' | 'cancel'; passphrase?: string; password?: string } = {}) {
  const asked: string[] = [];
  const prompts: Prompts = {
    async unknownHostKey(info) {
      asked.push(`hostkey ${info.host}:${info.port} ${info.keyType} ${info.sha256}`);
      return answers.hostKey ?? 'cancel';
    },
    async passphrase(info) {
      asked.push(`passphrase ${info.identityFile}`);
      return answers.passphrase;
    },
    async password(info) {
      asked.push(`password ${info.user}@${info.host}`);
      return answers.password;
    },
  };
  return { prompts, asked };
}

const hostEntry = (h: SshHostLab, ssh: Partial<Exclude<HostEntry['ssh'], string>> = {}, name = 'target'): HostEntry => ({
  name,
  ssh: { host: h.host, port: h.port, user: h.username, identityFile: h.userKeyPath, ...ssh },
  endpoints: [],
});

const pool = (prompts: Prompts, extra: Partial<ConstructorParameters<typeof SshPool>[0]> = {}) =>
  new SshPool({ prompts, sshConfigFile: emptyConfig, knownHostsFile: knownHosts, agentSocket: '', home: dir, ...extra });

async function expectSshError(p: Promise<unknown>, kind: string, message: RegExp): Promise<SshError> {
  const e = await p.then(() => assert.fail('expected an SshError'), (err: unknown) => err);
  assert.ok(e instanceof SshError, `expected an SshError, got ${String(e)}`);
  assert.equal(e.kind, kind, e.message);
  assert.match(e.message, message);
  return e;
}

before(async () => {
  sudoUser = createLabUser(LAB_USER, { sudo: 'nopasswd' });
  pwUser = createLabUser(NOPW_USER, { sudo: 'password', password: 'lab-Passw0rd' });
  [target, bastion] = await Promise.all([
    startSshHost({ address: '127.0.0.3', users: ['root', LAB_USER, NOPW_USER], passwordAuth: true }),
    startSshHost({ address: '127.0.0.2', logLevel: 'DEBUG1' }),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'certops-ssh-test-'));
  emptyConfig = join(dir, 'ssh_config');
  writeFileSync(emptyConfig, '');
  knownHosts = writeKnownHosts(dir, [target.knownHostsLine, bastion.knownHostsLine]);
});

after(async () => {
  await Promise.all([target?.stop(), bastion?.stop()]);
  sudoUser?.remove();
  pwUser?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('key login: runs a command, and one connection serves every operation on the host', async () => {
  const { prompts, asked } = recordingPrompts();
  const p = pool(prompts);
  try {
    const remote = await p.get(hostEntry(target));
    const [a, b] = await Promise.all([remote.exec(['echo', 'one']), remote.exec(['id', '-un'])]);
    assert.equal(a.stdout.toString(), 'one\n');
    assert.equal(b.stdout.toString().trim(), 'root');
    assert.equal((await p.get(hostEntry(target))) === remote, true, 'the same handle for the same host');
    const st = await remote.stat(knownHosts);
    assert.deepEqual([st?.mode, st?.owner, st?.isFile], [0o600, 'root', true], 'SFTP stat, with the owner name from the directory listing');
    assert.equal(p.connectionCount, 1);
    assert.deepEqual(asked, [], 'nothing was asked');
  } finally {
    p.closeAll();
  }
});

test('agent login: a key held only by a real ssh-agent', async () => {
  const agent = await startSshAgent();
  try {
    const agentKey = generateUserKey(dir, 'agent-only');
    target.authorize(agentKey.publicKey);
    agent.add(agentKey.path);
    rmSync(agentKey.path); // only the agent has it now
    const p = pool(recordingPrompts().prompts, { agentSocket: agent.socket });
    try {
      const remote = await p.get({ name: 'via-agent', ssh: { host: target.host, port: target.port, user: 'root' }, endpoints: [] });
      assert.equal((await remote.exec(['echo', 'agent'])).stdout.toString(), 'agent\n');
    } finally {
      p.closeAll();
    }
  } finally {
    await agent.stop();
  }
});

test('IdentitiesOnly with an agent: the agent signs with the configured identity (no passphrase asked), and only with it', async () => {
  const agent = await startSshAgent();
  try {
    const inAgent = generateUserKey(dir, 'agent-and-file');
    target.authorize(inAgent.publicKey);
    agent.add(inAgent.path);
    // The file on disk is encrypted now; its .pub names it. The agent holds it unlocked.
    execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'disk passphrase', '-f', inAgent.path]);
    const other = generateUserKey(dir, 'not-authorized', 'other passphrase');
    const config = join(dir, 'ssh_config_idonly');
    writeFileSync(config, [
      `Host idonly-agent\n  HostName ${target.host}\n  Port ${target.port}\n  User root\n  IdentitiesOnly yes\n  IdentityFile ${inAgent.path}`,
      `Host idonly-other\n  HostName ${target.host}\n  Port ${target.port}\n  User root\n  IdentitiesOnly yes\n  IdentityFile ${other.path}`,
      '',
    ].join('\n'));
    const ok = recordingPrompts();
    const p = pool(ok.prompts, { sshConfigFile: config, agentSocket: agent.socket });
    try {
      const remote = await p.get({ name: 'a', ssh: 'idonly-agent', endpoints: [] });
      assert.equal((await remote.exec(['echo', 'signed by the agent'])).stdout.toString(), 'signed by the agent\n');
      assert.deepEqual(ok.asked, [], 'the agent had the key: no passphrase asked');
    } finally {
      p.closeAll();
    }
    const refused = recordingPrompts();
    const p2 = pool(refused.prompts, { sshConfigFile: config, agentSocket: agent.socket });
    try {
      // The agent's (authorized) key is not the configured identity, so it is not offered.
      await expectSshError(p2.get({ name: 'b', ssh: 'idonly-other', endpoints: [] }), 'auth', /authentication failed/);
      assert.deepEqual(refused.asked.filter((a) => a.startsWith('passphrase')), [`passphrase ${other.path}`]);
    } finally {
      p2.closeAll();
    }
  } finally {
    await agent.stop();
  }
});

test('an encrypted identity file asks for its passphrase; without one the login fails', async () => {
  const enc = generateUserKey(dir, 'encrypted', 'correct horse');
  target.authorize(enc.publicKey);
  const ok = recordingPrompts({ passphrase: 'correct horse' });
  const p = pool(ok.prompts);
  try {
    const remote = await p.get(hostEntry(target, { identityFile: enc.path }, 'enc'));
    assert.equal((await remote.exec(['true'])).code, 0);
    assert.deepEqual(ok.asked, [`passphrase ${enc.path}`]);
  } finally {
    p.closeAll();
  }
  const none = recordingPrompts();
  const p2 = pool(none.prompts);
  try {
    await expectSshError(p2.get(hostEntry(target, { identityFile: enc.path }, 'enc')), 'auth', /authentication failed/);
    assert.ok(none.asked.includes(`passphrase ${enc.path}`));
  } finally {
    p2.closeAll();
  }
});

test('password authentication after the keys, through the password prompt', async () => {
  const { prompts, asked } = recordingPrompts({ password: 'lab-Passw0rd' });
  const p = pool(prompts);
  try {
    const remote = await p.get({ name: 'pw', ssh: { host: target.host, port: target.port, user: NOPW_USER, identityFile: join(dir, 'no-such-key') }, endpoints: [] });
    assert.equal((await remote.exec(['id', '-un'])).stdout.toString().trim(), NOPW_USER);
    assert.deepEqual(asked, [`password ${NOPW_USER}@${target.host}`], 'asked once, shared by keyboard-interactive and password');
  } finally {
    p.closeAll();
  }
});

test('an unknown host key is put to the prompt: cancel refuses, save appends it to known_hosts', async () => {
  const kh = writeKnownHosts(dir, [], 'kh-unknown');
  const cancel = recordingPrompts({ hostKey: 'cancel' });
  const p = pool(cancel.prompts, { knownHostsFile: kh });
  try {
    await expectSshError(p.get(hostEntry(target)), 'host-key-unknown', new RegExp(`unknown host key ssh-ed25519 ${target.hostKeyFingerprint.replace(/[+/]/g, '\\$&')}`));
    assert.deepEqual(cancel.asked, [`hostkey ${target.host} ${target.port} ssh-ed25519 ${target.hostKeyFingerprint}`.replace(` ${target.port}`, `:${target.port}`)]);
  } finally {
    p.closeAll();
  }
  const save = recordingPrompts({ hostKey: 'save' });
  const p2 = pool(save.prompts, { knownHostsFile: kh });
  try {
    await p2.get(hostEntry(target));
    assert.equal(readFileSync(kh, 'utf8'), `${target.knownHostsLine}\n`);
  } finally {
    p2.closeAll();
  }
  // Saved: the next connection asks nothing.
  const again = recordingPrompts({ hostKey: 'cancel' });
  const p3 = pool(again.prompts, { knownHostsFile: kh });
  try {
    await p3.get(hostEntry(target));
    assert.deepEqual(again.asked, []);
  } finally {
    p3.closeAll();
  }
});

test('StrictHostKeyChecking from the ssh config: yes refuses without asking, accept-new saves without asking', async () => {
  for (const [mode, expectSaved] of [['yes', false], ['accept-new', true]] as const) {
    const kh = writeKnownHosts(dir, [], `kh-strict-${mode}`);
    const config = join(dir, `ssh_config_strict_${mode}`);
    writeFileSync(config, `${target.sshConfig('strict', 'root')}  StrictHostKeyChecking ${mode}\n`);
    const { prompts, asked } = recordingPrompts({ hostKey: 'save' });
    const p = pool(prompts, { sshConfigFile: config, knownHostsFile: kh });
    try {
      const got = p.get({ name: 'strict', ssh: 'strict', endpoints: [] });
      if (expectSaved) await got;
      else await expectSshError(got, 'host-key-unknown', /not accepted/);
      assert.deepEqual(asked, [], `StrictHostKeyChecking ${mode} asks nothing`);
      assert.equal(readFileSync(kh, 'utf8'), expectSaved ? `${target.knownHostsLine}\n` : '');
    } finally {
      p.closeAll();
    }
  }
});

test('HashKnownHosts yes: an accepted key is saved under a hashed name, which the next connection recognises', async () => {
  const kh = writeKnownHosts(dir, [], 'kh-hash-save');
  const config = join(dir, 'ssh_config_hash');
  writeFileSync(config, `${target.sshConfig('hashing', 'root')}  HashKnownHosts yes\n`);
  const p = pool(recordingPrompts({ hostKey: 'save' }).prompts, { sshConfigFile: config, knownHostsFile: kh });
  try {
    await p.get({ name: 'h', ssh: 'hashing', endpoints: [] });
  } finally {
    p.closeAll();
  }
  const saved = readFileSync(kh, 'utf8');
  assert.match(saved, new RegExp(`^\\|1\\|[^|]+\\|[^ ]+ ${target.hostPublicKey.replace(/[+/]/g, '\\$&')}\n$`));
  assert.equal(saved.includes(target.host), false, 'the host name is not in the clear');
  const again = recordingPrompts({ hostKey: 'cancel' });
  const p2 = pool(again.prompts, { sshConfigFile: config, knownHostsFile: kh });
  try {
    await p2.get({ name: 'h', ssh: 'hashing', endpoints: [] });
    assert.deepEqual(again.asked, []);
  } finally {
    p2.closeAll();
  }
});

test('a hashed known_hosts entry is recognised', async () => {
  const kh = writeKnownHosts(dir, ['# hashed as ssh-keygen -H writes it', hashedKnownHostsLine(target.host, target.port, target.hostPublicKey)], 'kh-hashed');
  const { prompts, asked } = recordingPrompts({ hostKey: 'cancel' });
  const p = pool(prompts, { knownHostsFile: kh });
  try {
    await p.get(hostEntry(target));
    assert.deepEqual(asked, []);
  } finally {
    p.closeAll();
  }
});

test('a @revoked host key is refused even when also listed as known', async () => {
  const kh = writeKnownHosts(dir, [target.knownHostsLine, `@revoked * ${target.hostPublicKey}`], 'kh-revoked');
  const p = pool(recordingPrompts({ hostKey: 'save' }).prompts, { knownHostsFile: kh, acceptNew: true });
  try {
    await expectSshError(p.get(hostEntry(target)), 'host-key-revoked', /@revoked in .*kh-revoked:2/);
  } finally {
    p.closeAll();
  }
});

test('a changed host key is refused, naming the known_hosts file and line, even with acceptNew', async () => {
  const host = await startSshHost({ address: '127.0.0.4' });
  try {
    const kh = writeKnownHosts(dir, ['# first line', host.knownHostsLine], 'kh-changed');
    await host.rotateHostKey();
    const { prompts, asked } = recordingPrompts({ hostKey: 'save' });
    const p = pool(prompts, { knownHostsFile: kh, acceptNew: true });
    try {
      await expectSshError(p.get(hostEntry(host)), 'host-key-changed', new RegExp(`HOST KEY CHANGED.*${host.hostKeyFingerprint.replace(/[+/]/g, '\\$&')}.*kh-changed:2`));
      assert.deepEqual(asked, [], 'no prompt offers to override a changed key');
      assert.equal(readFileSync(kh, 'utf8').split('\n').filter(Boolean).length, 2, 'known_hosts untouched');
    } finally {
      p.closeAll();
    }
  } finally {
    await host.stop();
  }
});

test('ProxyJump through the bastion (from ~/.ssh/config), each hop checked against known_hosts', async () => {
  const config = join(dir, 'ssh_config_jump');
  writeFileSync(config, [bastion.sshConfig('bastion', 'root'), target.sshConfig('target-behind', 'root'), '  ProxyJump bastion', ''].join('\n'));
  const p = pool(recordingPrompts().prompts, { sshConfigFile: config });
  try {
    const remote = await p.get({ name: 'behind', ssh: 'target-behind', endpoints: [] });
    assert.equal((await remote.exec(['echo', 'jumped'])).stdout.toString(), 'jumped\n');
    // The bastion's sshd logged the forwarded connection to the target.
    assert.match(bastion.log(), new RegExp(`direct-tcpip.*${target.host.replace(/\./g, '\\.')}|${target.host.replace(/\./g, '\\.')} port ${target.port}`));
  } finally {
    p.closeAll();
  }
  // A jump host whose key is unknown is refused like any host.
  const kh = writeKnownHosts(dir, [target.knownHostsLine], 'kh-no-bastion');
  const p2 = pool(recordingPrompts({ hostKey: 'cancel' }).prompts, { sshConfigFile: config, knownHostsFile: kh });
  try {
    await expectSshError(p2.get({ name: 'behind', ssh: 'target-behind', endpoints: [] }), 'host-key-unknown', /jump host/);
  } finally {
    p2.closeAll();
  }
});

test('sudo: an unprivileged login reads a root-only key through sudo -n; without sudo it is refused', async () => {
  const secretDir = mkdtempSync(join(tmpdir(), 'certops-root-only-'));
  const keyFile = join(secretDir, 'server.key');
  writeFileSync(keyFile, 'root only\n', { mode: 0o600 });
  chmodSync(secretDir, 0o755);
  const p = pool(recordingPrompts().prompts);
  try {
    const withSudo = await p.get(hostEntry(target, { user: LAB_USER, sudo: true }, 'sudo'));
    assert.equal((await withSudo.readFile(keyFile)).toString(), 'root only\n');
    const st = await withSudo.stat(keyFile);
    assert.equal(st?.mode, 0o600);
    assert.equal(st?.owner, 'root');
    assert.equal((await withSudo.exec(['id', '-un'])).stdout.toString().trim(), 'root');
    assert.equal(await withSudo.stat(join(secretDir, 'missing')), undefined);

    const plain = await p.get(hostEntry(target, { user: LAB_USER }, 'plain'));
    assert.equal((await plain.exec(['id', '-un'])).stdout.toString().trim(), LAB_USER);
    await assert.rejects(plain.readFile(keyFile), (e: NodeJS.ErrnoException) => e.code === 'EACCES');
  } finally {
    p.closeAll();
    rmSync(secretDir, { recursive: true, force: true });
  }
});

test('sudo that asks for a password fails clearly instead of hanging', async () => {
  const p = pool(recordingPrompts({ password: 'lab-Passw0rd' }).prompts);
  try {
    const remote = await p.get(hostEntry(target, { user: NOPW_USER, sudo: true }, 'pw-sudo'));
    await expectSshError(remote.readFile('/etc/hostname'), 'sudo-needs-password', /sudo asks for a password/);
  } finally {
    p.closeAll();
  }
});

test('paths with spaces, quotes, $(...), a leading dash and a newline are passed literally (exec, SFTP and sudo)', async () => {
  const weirdDir = mkdtempSync(join(tmpdir(), 'certops-weird-'));
  chmodSync(weirdDir, 0o755);
  // Relative: a slash cannot be part of a file name. Commands run in the login user's home.
  const canary = 'certops-pwned-canary';
  const canaries = ['/root', sudoUser.home].map((h) => join(h, canary));
  const name = `-n a b 'q' "d" $(touch ${canary}) \`touch ${canary}\` ; x\nline.pem`;
  const file = join(weirdDir, name);
  writeFileSync(file, 'literal\n', { mode: 0o644 });
  const p = pool(recordingPrompts().prompts);
  try {
    const root = await p.get(hostEntry(target));
    const sudo = await p.get(hostEntry(target, { user: LAB_USER, sudo: true }, 'sudo'));
    assert.equal((await root.exec(['printf', '%s', name])).stdout.toString(), name);
    assert.equal((await root.exec(['cat', '--', file])).stdout.toString(), 'literal\n');
    assert.equal((await root.readFile(file)).toString(), 'literal\n', 'SFTP');
    assert.equal((await sudo.readFile(file)).toString(), 'literal\n', 'sudo cat');
    assert.equal((await sudo.stat(file))?.size, 8);
    for (const c of canaries) assert.equal(existsSync(c), false, `nothing in the name was executed (${c})`);
  } finally {
    p.closeAll();
    rmSync(weirdDir, { recursive: true, force: true });
  }
});

test('an unreachable host fails with the reason (connection refused), not a hang', async () => {
  const port = await freePort('127.0.0.5');
  const p = pool(recordingPrompts().prompts);
  try {
    await expectSshError(p.get({ name: 'down', ssh: { host: '127.0.0.5', port, user: 'root', identityFile: target.userKeyPath }, endpoints: [] }), 'unreachable', new RegExp(`root@127\\.0\\.0\\.5:${port}: connection refused`));
  } finally {
    p.closeAll();
  }
});

test('a port that accepts TCP but never speaks SSH fails at ConnectTimeout, not at the prompt timeout', async () => {
  const silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.8', r));
  const port = (silent.address() as { port: number }).port;
  const config = join(dir, 'ssh_config_silent');
  writeFileSync(config, `Host silent\n  HostName 127.0.0.8\n  Port ${port}\n  User root\n  ConnectTimeout 1\n  IdentityFile ${target.userKeyPath}\n`);
  const p = pool(recordingPrompts().prompts, { sshConfigFile: config });
  try {
    await expectSshError(p.get({ name: 'silent', ssh: 'silent', endpoints: [] }), 'timeout', /root@silent: no SSH handshake within 1 s \(ConnectTimeout\)/);
  } finally {
    p.closeAll();
    silent.close();
  }
});

test('an unknown host accepted "once" connects without writing known_hosts', async () => {
  const kh = writeKnownHosts(dir, [], 'kh-once');
  const once = recordingPrompts({ hostKey: 'once' });
  const p = pool(once.prompts, { knownHostsFile: kh });
  try {
    const remote = await p.get(hostEntry(target));
    assert.equal((await remote.exec(['echo', 'once'])).stdout.toString(), 'once\n');
    assert.equal(once.asked.length, 1);
    assert.equal(readFileSync(kh, 'utf8'), '');
  } finally {
    p.closeAll();
  }
});

test('many commands at once on one connection all run (beyond sshd\'s MaxSessions of 10, they wait their turn)', async () => {
  const p = pool(recordingPrompts().prompts);
  try {
    const remote = await p.get(hostEntry(target));
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => remote.exec(['echo', String(i)])));
    assert.deepEqual(results.map((r) => r.stdout.toString().trim()), Array.from({ length: 24 }, (_, i) => String(i)));
    assert.equal(p.connectionCount, 1);
  } finally {
    p.closeAll();
  }
});

test('an idle connection is closed, and the next operation opens a new one', async () => {
  const p = pool(recordingPrompts().prompts, { idleMs: 200 });
  try {
    const remote = await p.get(hostEntry(target));
    await remote.exec(['true']);
    assert.equal(p.connectionCount, 1);
    for (let i = 0; i < 100 && p.connectionCount > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(p.connectionCount, 0, 'closed once idle');
    assert.equal((await remote.exec(['echo', 'back'])).stdout.toString(), 'back\n');
    assert.equal(p.connectionCount, 1);
  } finally {
    p.closeAll();
  }
});

test('cancellation: an aborted command rejects as cancelled', async () => {
  const p = pool(recordingPrompts().prompts);
  try {
    const remote = await p.get(hostEntry(target));
    const ac = new AbortController();
    const running = remote.exec(['sleep', '30'], { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await expectSshError(running, 'cancelled', /cancelled/);
    assert.equal((await remote.exec(['echo', 'still usable'])).stdout.toString(), 'still usable\n');
  } finally {
    p.closeAll();
  }
});
