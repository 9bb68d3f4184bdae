// The extension's answers to the engine's questions, against a real sshd: an unknown
// host key shown with its fingerprint (accept and save, cancel), and the passphrase of an
// encrypted identity asked in a password box and remembered only when opted in.
// The dialogs are answered by a stand-in for vscode.window; everything else is real.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as vscode from 'vscode';
import { PromptUi, VsCodePrompts } from '../../client/src/hosts/prompts';
import type { HostEntry } from '../../server/src/inventory';
import { SshError, SshPool } from '../../server/src/ssh';
import { generateUserKey, SshHostLab, startSshHost } from '../lab/harness';

/** A SecretStorage and a Memento in memory, so the test sees exactly what was stored. */
function stores() {
  const secrets = new Map<string, string>();
  const memento = new Map<string, unknown>();
  return {
    secrets,
    memento,
    secretStorage: {
      get: async (k: string) => secrets.get(k),
      store: async (k: string, v: string) => void secrets.set(k, v),
      delete: async (k: string) => void secrets.delete(k),
    } as unknown as vscode.SecretStorage,
    state: {
      get: <T>(k: string, d?: T) => (memento.has(k) ? memento.get(k) : d),
      update: async (k: string, v: unknown) => void memento.set(k, v),
      keys: () => [...memento.keys()],
    } as unknown as vscode.Memento,
  };
}

/** Answers the dialogs with `answers` and records what was asked. */
function ui(answers: { warning?: string; input?: string }) {
  const asked: { kind: 'warning' | 'input'; text: string; options: Record<string, unknown>; items: string[] }[] = [];
  const api = {
    showWarningMessage: async (text: string, options: Record<string, unknown>, ...items: string[]) => {
      asked.push({ kind: 'warning', text, options, items });
      return answers.warning;
    },
    showInputBox: async (options: Record<string, unknown>) => {
      asked.push({ kind: 'input', text: String(options.prompt), options, items: [] });
      return answers.input;
    },
  } as unknown as PromptUi;
  return { api, asked };
}

describe('SSH prompts answered with VS Code UI, against a real sshd', function () {
  this.timeout(300_000);
  let ssh: SshHostLab;
  let dir: string;
  let emptyConfig: string;
  const host = (identityFile: string): HostEntry => ({ name: 'lab', ssh: { host: ssh.host, port: ssh.port, user: ssh.username, identityFile }, endpoints: [] });

  before(async () => {
    ssh = await startSshHost();
    dir = mkdtempSync(join(tmpdir(), 'certops-prompts-'));
    emptyConfig = join(dir, 'ssh_config');
    writeFileSync(emptyConfig, '');
  });
  after(async () => {
    await ssh?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an unknown host key is shown with its SHA256 fingerprint in a modal; "Accept and Save" connects and saves it', async () => {
    const knownHosts = join(dir, 'known_hosts_accept');
    writeFileSync(knownHosts, '');
    const s = stores();
    const dialogs = ui({ warning: 'Accept and Save' });
    const pool = new SshPool({ prompts: new VsCodePrompts(s.secretStorage, s.state, () => false, dialogs.api), knownHostsFile: knownHosts, sshConfigFile: emptyConfig });
    try {
      const remote = await pool.get(host(ssh.userKeyPath));
      assert.equal((await remote.exec(['echo', 'connected'])).stdout.toString().trim(), 'connected');
    } finally {
      pool.closeAll();
    }
    assert.equal(dialogs.asked.length, 1);
    const [q] = dialogs.asked;
    assert.equal(q.options.modal, true);
    assert.deepEqual(q.items, ['Accept Once', 'Accept and Save']);
    assert.match(q.text, new RegExp(`${ssh.host.replace(/\./g, '\\.')} port ${ssh.port}`));
    assert.ok(String(q.options.detail).includes(ssh.hostKeyFingerprint), String(q.options.detail));
    assert.ok(readFileSync(knownHosts, 'utf8').includes(ssh.hostPublicKey.split(' ')[1]), 'the key was appended to known_hosts');
  });

  it('cancelling the host key dialog refuses the connection and saves nothing', async () => {
    const knownHosts = join(dir, 'known_hosts_cancel');
    writeFileSync(knownHosts, '');
    const s = stores();
    const dialogs = ui({ warning: undefined });
    const pool = new SshPool({ prompts: new VsCodePrompts(s.secretStorage, s.state, () => false, dialogs.api), knownHostsFile: knownHosts, sshConfigFile: emptyConfig });
    try {
      await assert.rejects(pool.get(host(ssh.userKeyPath)), (e: unknown) => e instanceof SshError && e.kind === 'host-key-unknown');
    } finally {
      pool.closeAll();
    }
    assert.equal(dialogs.asked.length, 1);
    assert.equal(readFileSync(knownHosts, 'utf8'), '');
  });

  it('an encrypted identity asks for its passphrase in a password box, kept in secret storage only when opted in', async () => {
    const key = generateUserKey(dir, 'encrypted', 'correct horse');
    ssh.authorize(key.publicKey);
    const knownHosts = join(dir, 'known_hosts_key');
    writeFileSync(knownHosts, `${ssh.knownHostsLine}\n`);
    const s = stores();
    let remember = false;
    const connect = async (dialogs: ReturnType<typeof ui>) => {
      const pool = new SshPool({ prompts: new VsCodePrompts(s.secretStorage, s.state, () => remember, dialogs.api), knownHostsFile: knownHosts, sshConfigFile: emptyConfig });
      try {
        const remote = await pool.get(host(key.path));
        return (await remote.exec(['echo', 'in'])).stdout.toString().trim();
      } finally {
        pool.closeAll();
      }
    };

    const off = ui({ input: 'correct horse' });
    assert.equal(await connect(off), 'in');
    assert.deepEqual(off.asked.map((a) => [a.kind, a.options.password]), [['input', true]]);
    assert.ok(off.asked[0].text.includes(key.path), off.asked[0].text);
    assert.equal(s.secrets.size, 0, 'nothing is stored unless opted in');

    remember = true;
    const on = ui({ input: 'correct horse' });
    assert.equal(await connect(on), 'in');
    assert.equal(on.asked.length, 1);
    assert.deepEqual([...s.secrets.values()], ['correct horse']);

    // Opted in and stored: the next connection asks nothing.
    const again = ui({ input: 'never typed' });
    assert.equal(await connect(again), 'in');
    assert.equal(again.asked.length, 0);

    const prompts = new VsCodePrompts(s.secretStorage, s.state, () => remember, again.api);
    assert.equal(await prompts.forgetAll(), 1);
    assert.equal(s.secrets.size, 0);
  });
});
