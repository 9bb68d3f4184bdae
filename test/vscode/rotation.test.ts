// Rotation from the Hosts view against the real lab (OpenSSH sshd and nginx on
// loopback, started here in the extension host) with the real engine: the
// confirmation's dialogs are answered by a stand-in for the dialogs, everything
// else (SSH, the transaction, the reload, the probes, the evidence) is real.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CertopsApi } from '../../client/src/extension';
import type { ItemSpec } from '../../client/src/hosts/items';
import type { RotateArgs, RotationOutcome, RotationUi, StepEvent } from '../../client/src/hosts/rotation';
import { probeTls } from '../../server/src/probe';
import { encodeJournal, filePlan, lockPath } from '../../server/src/rotation/journal';
import { CA_EXT, DAY, Issued, leafExt, Pki, ROOT_EXT } from '../fixtures/pki';
import { NginxLab, SshHostLab, startNginx, startSshHost, writeInventory } from '../lab/harness';
import { activateCertops, sampleFolder, screenshot, trustLabHost, until } from './helpers';

let api: CertopsApi;
let pki: Pki;
let root: Issued, newRoot: Issued, leaf: Issued, renewed: Issued, stranger: Issued, third: Issued, fourth: Issued;
let nginx: NginxLab | undefined;
let polled: NginxLab | undefined;
let ssh: SshHostLab | undefined;
let folder: string;

const sha256 = (der: Uint8Array) => createHash('sha256').update(der).digest('hex');
const short = (sha: string) => `${sha.slice(0, 16)}…`;

/** The leaf nginx serves now, by a handshake of its own (not through the extension). */
async function served(lab: NginxLab): Promise<string> {
  const r = await probeTls({ host: lab.host, port: lab.port, servername: 'lab.certops.test' });
  return r.chain[0].sha256;
}

/** What was asked and shown through the dialogs, and the modal answers given. */
interface Shown {
  kind: 'warning' | 'information' | 'error';
  text: string;
  modal: boolean;
  detail: string;
  items: string[];
}
let shown: Shown[] = [];

/** Answers every modal with its first button (Rotate, Roll Back, …); notifications are only recorded. */
function answeringUi(): RotationUi {
  const message = (kind: Shown['kind']) => async (text: string, ...rest: unknown[]) => {
    const options = rest[0] !== null && typeof rest[0] === 'object' ? (rest.shift() as vscode.MessageOptions) : {};
    const items = rest as string[];
    shown.push({ kind, text, modal: options.modal === true, detail: options.detail ?? '', items });
    return options.modal ? items[0] : undefined;
  };
  return {
    showWarningMessage: message('warning'),
    showInformationMessage: message('information'),
    showErrorMessage: message('error'),
    showQuickPick: async () => undefined,
    showOpenDialog: async () => undefined,
    showSaveDialog: async () => undefined,
  } as unknown as RotationUi;
}

const endpointRow = (name: string): ItemSpec => {
  const r = api.hosts.tree.find(`endpoint:lab/${name}`);
  assert.ok(r, `no row for lab/${name}`);
  return r;
};
const childRow = (endpoint: string, label: string) => {
  const r = endpointRow(endpoint).children.find((c) => c.label === label);
  assert.ok(r, `no "${label}" row under lab/${endpoint}`);
  return api.hosts.tree.getTreeItem(r);
};
const rotate = (name: string, files: RotateArgs) => vscode.commands.executeCommand<RotationOutcome | undefined>('certops.rotate', endpointRow(name), undefined, files);

describe('rotation from the hosts view against a real sshd and nginx', function () {
  this.timeout(300_000);

  before(async () => {
    api = (await activateCertops()) as unknown as CertopsApi;
    pki = new Pki();
    root = pki.issue('root', { subject: '/CN=Rotation Lab Root', ext: ROOT_EXT, notAfter: 365 * DAY });
    newRoot = pki.issue('newroot', { subject: '/CN=Rotation Lab Root 2', ext: ROOT_EXT, notAfter: 730 * DAY });
    const inter = pki.issue('inter', { subject: '/CN=Rotation Lab Intermediate', issuer: root, ext: CA_EXT, notAfter: 300 * DAY });
    const san = leafExt('DNS:lab.certops.test,IP:127.0.0.1');
    leaf = pki.issue('leaf', { subject: '/CN=lab.certops.test', issuer: inter, ext: san, notAfter: 60 * DAY });
    renewed = pki.issue('renewed', { subject: '/CN=lab.certops.test', issuer: inter, ext: san, notAfter: 90 * DAY });
    third = pki.issue('third', { subject: '/CN=lab.certops.test', issuer: inter, ext: san, notAfter: 120 * DAY });
    fourth = pki.issue('fourth', { subject: '/CN=lab.certops.test', issuer: inter, ext: san, notAfter: 150 * DAY });
    stranger = pki.issue('stranger', { subject: '/CN=lab.certops.test', issuer: inter, ext: san, notAfter: 90 * DAY });
    nginx = await startNginx({ cert: leaf.pem + inter.pem, key: leaf.keyPem });
    writeFileSync(join(nginx.dir, 'ca.crt'), root.pem);
    polled = await startNginx({ cert: leaf.pem + inter.pem, key: leaf.keyPem });
    writeFileSync(join(polled.dir, 'ca.crt'), root.pem);
    ssh = await startSshHost();

    // The new files, as an operator has them in the workspace; keys created 0600.
    folder = sampleFolder().root.fsPath;
    writeFileSync(join(folder, 'renewed.crt'), renewed.pem + inter.pem);
    writeFileSync(join(folder, 'renewed.key'), renewed.keyPem, { mode: 0o600 });
    writeFileSync(join(folder, 'stranger.key'), stranger.keyPem, { mode: 0o600 });
    writeFileSync(join(folder, 'third.crt'), third.pem + inter.pem);
    writeFileSync(join(folder, 'third.key'), third.keyPem, { mode: 0o600 });
    writeFileSync(join(folder, 'fourth.crt'), fourth.pem + inter.pem);
    writeFileSync(join(folder, 'fourth.key'), fourth.keyPem, { mode: 0o600 });
    writeFileSync(join(folder, 'root.crt'), root.pem);
    writeFileSync(join(folder, 'newroot.crt'), newRoot.pem);

    const knownHosts = await trustLabHost(folder, ssh.knownHostsLine, '.certops-rotation-');
    writeInventory(folder, {
      hosts: [
        {
          name: 'lab',
          ssh: { host: ssh.host, port: ssh.port, user: ssh.username, identityFile: ssh.userKeyPath },
          endpoints: [
            {
              name: 'https',
              probe: { host: nginx.host, port: nginx.port, servername: 'lab.certops.test' },
              files: { cert: nginx.certFile, key: nginx.keyFile, ca: join(nginx.dir, 'ca.crt') },
              reload: { kind: 'signal', pidFile: join(nginx.dir, 'nginx.pid') },
            },
            {
              // A server that polls its files: certops only waits; this test plays the poller.
              name: 'polled',
              probe: { host: polled.host, port: polled.port, servername: 'lab.certops.test' },
              files: { cert: polled.certFile, key: polled.keyFile, ca: join(polled.dir, 'ca.crt') },
              reload: { kind: 'watch', intervalSeconds: 5 },
            },
          ],
        },
      ],
    });
    const session = api.hosts.session;
    await until(
      'the rotation lab inventory to load',
      () => session.state === 'loaded' && session.settings.knownHostsFile === knownHosts && session.inventory?.hosts[0]?.endpoints.length === 2 && session.inventory.hosts[0].endpoints[0].probe.port === nginx!.port,
    );
    api.hosts.rotation.ui = answeringUi();
    // Notifications of earlier suites would crowd the pictures of the progress.
    await vscode.commands.executeCommand('notifications.clearAll');
    const statuses = await vscode.commands.executeCommand<{ states: string[] }[]>('certops.hosts.refresh');
    assert.deepEqual(statuses.map((s) => s.states), [['ok'], ['ok']]);
  });

  beforeEach(() => {
    shown = [];
  });

  after(async () => {
    if (api) api.hosts.rotation.ui = vscode.window;
    await nginx?.stop();
    await polled?.stop();
    await ssh?.stop();
    pki?.dispose();
  });

  it('a key that is not the certificate\'s is refused by preflight with a clear message, and nothing changes on the host', async () => {
    const before = { cert: readFileSync(nginx!.certFile), key: readFileSync(nginx!.keyFile), dir: readdirSync(nginx!.dir).sort() };
    const out = await rotate('https', { cert: join(folder, 'renewed.crt'), key: join(folder, 'stranger.key') });
    assert.ok(out);
    assert.deepEqual(out.results.map((r) => r.state), ['refused']);
    assert.match(out.results[0].message, /stranger\.key is not the private key of renewed\.crt/);
    const errors = shown.filter((s) => s.kind === 'error');
    assert.equal(errors.length, 1, JSON.stringify(shown));
    assert.match(errors[0].text, /^Cert Ops: lab\/https: rotation refused, nothing was changed: stranger\.key is not the private key of renewed\.crt/);
    assert.ok(!shown.some((s) => s.modal), 'no confirmation is asked for files that cannot be used');
    // Byte for byte the same files, no lock, no backup, and the old certificate still served.
    assert.deepEqual(readFileSync(nginx!.certFile), before.cert);
    assert.deepEqual(readFileSync(nginx!.keyFile), before.key);
    assert.deepEqual(readdirSync(nginx!.dir).sort(), before.dir);
    assert.equal(await served(nginx!), sha256(leaf.der));
    assert.deepEqual(out.evidence, []);
  });

  it('rotates an endpoint from its tree row: the new certificate is served, shown in the tree, and the evidence opens', async () => {
    const oldSha = sha256(leaf.der);
    const newSha = sha256(renewed.der);
    const steps: StepEvent[] = [];
    const sub = api.hosts.rotation.onDidStep((e) => steps.push(e));
    let out: RotationOutcome | undefined;
    try {
      out = await rotate('https', { cert: join(folder, 'renewed.crt'), key: join(folder, 'renewed.key') });
    } finally {
      sub.dispose();
    }
    assert.ok(out);
    // The confirmation named the endpoint, its files, the reload and old → new.
    const confirm = shown.find((s) => s.modal);
    assert.ok(confirm, JSON.stringify(shown));
    assert.equal(confirm.text, 'Rotate the certificate of lab/https?');
    assert.deepEqual(confirm.items, ['Rotate', 'Show Plan']);
    assert.ok(confirm.detail.includes(`cert ${nginx!.certFile} ← renewed.crt (0644)`), confirm.detail);
    assert.ok(confirm.detail.includes(`key  ${nginx!.keyFile} ← renewed.key (0600)`), confirm.detail);
    assert.ok(confirm.detail.includes(`reload: send SIGHUP to the pid in ${join(nginx!.dir, 'nginx.pid')}`), confirm.detail);
    assert.ok(confirm.detail.includes(`sha256 ${short(oldSha)}`) && confirm.detail.includes(`sha256 ${short(newSha)}`), confirm.detail);

    assert.deepEqual(out.results.map((r) => r.state), ['rotated'], out.results[0]?.message);
    assert.match(out.results[0].message, /the new certificate is served \(cutover \d+ ms\)/);
    const done = shown.find((s) => s.kind === 'information');
    assert.match(done?.text ?? '', /^Cert Ops: lab\/https rotated: the new certificate is served \(cutover \d+ ms\)\.$/);
    assert.deepEqual(done?.items, ['Show Evidence']);
    // Every step went by the progress, in the transaction's order.
    const ok = steps.filter((s) => s.status === 'ok').map((s) => s.step);
    assert.deepEqual(ok.filter((s) => ['place', 'reload', 'verify', 'release'].includes(s)), ['place', 'reload', 'verify', 'release'], ok.join(', '));
    assert.ok(ok.findIndex((s) => /backup/.test(s)) >= 0 && ok.findIndex((s) => /backup/.test(s)) < ok.indexOf('place'), `the backup comes before the placement: ${ok.join(', ')}`);

    // Served (by a handshake of this test's own), on disk, and in the tree.
    assert.equal(await served(nginx!), newSha);
    assert.equal(readFileSync(nginx!.certFile, 'utf8'), readFileSync(join(folder, 'renewed.crt'), 'utf8'));
    assert.ok(!readdirSync(nginx!.dir).some((n) => n.endsWith('.certops-lock')), 'the lock is released');
    assert.ok(readdirSync(nginx!.dir).some((n) => n.startsWith('server.crt.certops-backup-')), 'the old certificate is backed up beside it');
    assert.match(String(api.hosts.tree.getTreeItem(endpointRow('https')).description), /^OK · (89|90) days left$/);
    assert.match(String(childRow('https', 'served').description), /^CN=lab\.certops\.test · (89|90) days left$/);
    assert.ok(String(childRow('https', 'served').tooltip).includes(`SHA-256 ${newSha}`));

    // The evidence: its Markdown opened in the preview, with old and new fingerprints and no key material.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const md = await vscode.commands.executeCommand<vscode.Uri>('certops.showEvidence', endpointRow('https'));
    assert.ok(md);
    assert.equal(md.fsPath, out.evidence[out.evidence.length - 1]);
    const text = readFileSync(md.fsPath, 'utf8');
    assert.match(text, /^# Rotation .*: lab\/https/);
    assert.ok(text.includes(oldSha) && text.includes(newSha), text);
    assert.doesNotMatch(text, /PRIVATE KEY/);
    for (const keyPem of [renewed.keyPem, leaf.keyPem]) {
      for (const line of keyPem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) assert.ok(!text.includes(line), 'no line of a key in the evidence');
    }
    const json = readFileSync(md.fsPath.replace(/\.md$/, '.json'), 'utf8');
    assert.doesNotMatch(json, /PRIVATE KEY/);
    await until('the evidence in the Markdown preview', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.input instanceof vscode.TabInputWebview && /markdown\.preview/.test(t.input.viewType) && t.label.includes('lab-https')),
    );
    if (process.env.CERTOPS_SCREENSHOT_DIR) {
      // A wider editor for the record's tables; the side bar gets its width back afterwards.
      await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
      for (let i = 0; i < 4; i++) await vscode.commands.executeCommand('workbench.action.increaseViewWidth');
      await screenshot('rotation-evidence.png');
      for (let i = 0; i < 4; i++) await vscode.commands.executeCommand('workbench.action.decreaseViewWidth');
    }
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('rolls back the last rotation: the old files are back byte for byte and the old certificate is served', async () => {
    const out = await vscode.commands.executeCommand<RotationOutcome | undefined>('certops.rollback', endpointRow('https'));
    assert.ok(out);
    const confirm = shown.find((s) => s.modal);
    assert.match(confirm?.text ?? '', /^Roll back lab\/https to the files from before rotation \S+\?$/);
    assert.deepEqual(out.results.map((r) => r.state), ['rotated'], out.results[0]?.message);
    assert.match(out.results[0].message, /are back/);
    assert.equal(await served(nginx!), sha256(leaf.der));
    assert.equal(readFileSync(nginx!.keyFile, 'utf8'), leaf.keyPem);
    assert.match(String(childRow('https', 'served').description), /(59|60) days left$/);
    assert.match(shown.find((s) => s.kind === 'information')?.text ?? '', /^Cert Ops: lab\/https rolled back: /);
  });

  it('a server that polls its files: the progress waits at verify until it serves the new certificate, and reports the cutover', async () => {
    let verifying = false;
    const sub = api.hosts.rotation.onDidStep((e) => {
      if (e.label === 'lab/polled' && e.step === 'verify' && e.status === 'start') verifying = true;
    });
    try {
      const running = rotate('polled', { cert: join(folder, 'renewed.crt'), key: join(folder, 'renewed.key') });
      await until('the rotation to wait at verify', () => verifying, 60_000);
      // The notification shows the verify step while the server has not picked the files up yet.
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('certops.hosts.focus');
      await api.hosts.view.reveal(endpointRow('polled'), { expand: true, focus: true, select: true });
      assert.equal(api.hosts.tree.getTreeItem(endpointRow('polled')).description, 'rotating: verifying: probing for the new certificate…');
      // The notification center lists the progress (toasts are not drawn in the test workbench).
      await vscode.commands.executeCommand('notifications.showList');
      await vscode.commands.executeCommand('notification.expand');
      await screenshot('rotation-progress.png');
      await vscode.commands.executeCommand('notifications.hideList');
      assert.equal(await served(polled!), sha256(leaf.der), 'the server still serves the old certificate until it polls');
      polled!.reload();
      const out = await running;
      assert.ok(out);
      assert.deepEqual(out.results.map((r) => r.state), ['rotated'], out.results[0]?.message);
      assert.ok((out.results[0].records[0].cutoverMs ?? -1) >= 0);
      assert.equal(await served(polled!), sha256(renewed.der));
      assert.match(String(childRow('polled', 'served').description), /(89|90) days left$/);
    } finally {
      sub.dispose();
    }
  });

  it('an interrupted rotation left on the endpoint is shown in the tree, and Rotate finishes it first', async () => {
    // The journal of a rotation that took the lock and then died (another machine, an hour ago).
    const then = new Date(Date.now() - 3600_000).toISOString();
    const id = '20261203T000000Z-dead0';
    writeFileSync(lockPath(nginx!.certFile), encodeJournal({
      version: 1, id, kind: 'rotate', who: 'someone@elsewhere', machine: 'elsewhere', pid: 1, host: 'lab', endpoint: 'https', startedAt: then, updatedAt: then,
      phase: 'locked', done: ['locked'], files: [filePlan('cert', nginx!.certFile, id, 'x'), filePlan('key', nginx!.keyFile, id, 'x')],
      oldServed: sha256(leaf.der), newLeaf: sha256(renewed.der), oldCertFile: '', newCertFile: '',
    }));
    await vscode.commands.executeCommand('certops.hosts.refresh', endpointRow('https'));
    await until('the interrupted rotation in the tree', () => endpointRow('https').children.some((c) => c.contextValue.includes('interrupted')));
    const lockRow = endpointRow('https').children[0];
    assert.match(lockRow.label, new RegExp(`^interrupted rotate ${id} by someone@elsewhere \\(phase locked, `));
    assert.match(String(api.hosts.tree.getTreeItem(endpointRow('https')).description), /^rotation lock, OK/);

    const out = await rotate('https', { cert: join(folder, 'renewed.crt'), key: join(folder, 'renewed.key') });
    assert.ok(out);
    const asked = shown.filter((s) => s.modal).map((s) => s.text);
    assert.deepEqual(asked, ['An interrupted rotation was found on lab/https.', 'Rotate the certificate of lab/https?']);
    assert.match(shown.find((s) => s.kind === 'information' && /had not replaced any file/.test(s.text))?.text ?? '', new RegExp(`interrupted rotate ${id}`));
    assert.deepEqual(out.results.map((r) => r.state), ['rotated'], out.results[0]?.message);
    assert.equal(await served(nginx!), sha256(renewed.der));
    assert.ok(!existsSync(lockPath(nginx!.certFile)));
    await until('the lock row to go', () => !endpointRow('https').children.some((c) => c.contextValue.includes('interrupted')));
  });

  it('a new key and CSR for renewal, and a CA overlap bundle rolled out as the CA file alone, through the CLI\'s commands', async () => {
    const csr = await vscode.commands.executeCommand<Record<string, unknown>>('certops.csr', { from: join(folder, 'renewed.crt'), outKey: join(folder, 'next.key'), outCsr: join(folder, 'next.csr') });
    assert.equal(csr.subject, 'CN=lab.certops.test');
    assert.equal(statSync(join(folder, 'next.key')).mode & 0o777, 0o600);
    assert.match(readFileSync(join(folder, 'next.csr'), 'utf8'), /^-----BEGIN CERTIFICATE REQUEST-----/);
    assert.match(shown.find((s) => s.kind === 'information')?.text ?? '', /next\.key \(new ec private key, mode 0600\)/);
    // An existing key is never overwritten: the CLI's refusal is shown in one line.
    assert.equal(await vscode.commands.executeCommand('certops.csr', { from: join(folder, 'renewed.crt'), outKey: join(folder, 'next.key'), outCsr: join(folder, 'other.csr') }), undefined);
    assert.match(shown.find((s) => s.kind === 'error')?.text ?? '', /next\.key: already exists/);

    const bundle = join(folder, 'overlap.crt');
    const made = await vscode.commands.executeCommand<{ certificates: { subject: string }[] }>('certops.caBundle', { newCa: join(folder, 'newroot.crt'), oldCa: join(folder, 'root.crt'), out: bundle });
    assert.deepEqual(made.certificates.map((c) => c.subject), ['CN=Rotation Lab Root 2', 'CN=Rotation Lab Root']);
    shown = [];
    const out = await rotate('https', { ca: bundle });
    assert.ok(out);
    assert.equal(shown.find((s) => s.modal)?.text, 'Replace the CA file of lab/https?');
    assert.deepEqual(out.results.map((r) => r.state), ['rotated'], out.results[0]?.message);
    assert.equal(readFileSync(join(nginx!.dir, 'ca.crt'), 'utf8'), readFileSync(bundle, 'utf8'));
    assert.equal(await served(nginx!), sha256(renewed.der), 'the certificate stays');
  });

  it('a rollout from the host\'s row: the canary first, then the rest, with a summary', async () => {
    const steps: StepEvent[] = [];
    const sub = api.hosts.rotation.onDidStep((e) => {
      steps.push(e);
      // The polling server picks its files up when certops waits for it.
      if (e.label === 'lab/polled' && e.step === 'verify' && e.status === 'start') polled!.reload();
    });
    let out: RotationOutcome | undefined;
    try {
      const host = api.hosts.tree.find('host:lab');
      assert.ok(host);
      out = await vscode.commands.executeCommand<RotationOutcome>('certops.rotate', host, undefined, { cert: join(folder, 'third.crt'), key: join(folder, 'third.key') });
    } finally {
      sub.dispose();
    }
    assert.ok(out);
    const confirm = shown.find((s) => s.modal);
    assert.equal(confirm?.text, 'Rotate the certificates of 2 endpoints?');
    assert.deepEqual(confirm?.items, ['Roll Out', 'Show Plan']);
    assert.match(confirm?.detail ?? '', /lab\/https first as the canary, then 4 at a time; the rollout stops at the first failure/);
    assert.deepEqual(out.results.map((r) => [r.label, r.state]), [['lab/https', 'rotated'], ['lab/polled', 'rotated']], out.results.map((r) => r.message).join('; '));
    // The canary finished before the next endpoint started.
    const canaryDone = steps.findIndex((e) => e.label === 'lab/https' && e.step === 'release' && e.status === 'ok');
    const nextStart = steps.findIndex((e) => e.label === 'lab/polled');
    assert.ok(canaryDone >= 0 && nextStart > canaryDone, steps.map((e) => `${e.label} ${e.step} ${e.status}`).join('\n'));
    assert.ok(shown.some((s) => s.text === 'Cert Ops: rollout: 2 of 2 endpoints rotated.'), JSON.stringify(shown.map((s) => s.text)));
    assert.equal(await served(nginx!), sha256(third.der));
    assert.equal(await served(polled!), sha256(third.der));
  });

  it('a reload that fails after the placement is rolled back: the old files are back, the old certificate still served, and the warning says why', async () => {
    // A third endpoint on the polling server's files, whose reload command fails.
    const doc = JSON.parse(readFileSync(join(folder, 'certops.json'), 'utf8'));
    doc.hosts[0].endpoints.push({ ...doc.hosts[0].endpoints[1], name: 'broken', reload: { kind: 'command', command: 'echo reload refused >&2; exit 3' } });
    writeInventory(folder, doc);
    await until('the third endpoint', () => api.hosts.tree.find('endpoint:lab/broken'));
    const before = { cert: readFileSync(polled!.certFile), key: readFileSync(polled!.keyFile) };
    // The renewed certificate expires before the one served now (third): asked, and rotated anyway.
    const out = await rotate('broken', { cert: join(folder, 'renewed.crt'), key: join(folder, 'renewed.key') });
    assert.ok(out);
    assert.deepEqual(shown.filter((s) => s.modal).map((s) => s.text), ['The new certificate expires before the one it replaces on lab/broken.', 'Rotate the certificate of lab/broken?']);
    assert.deepEqual(out.results.map((r) => r.state), ['rolled-back'], out.results[0]?.message);
    const warning = shown.find((s) => s.kind === 'warning' && !s.modal);
    assert.match(warning?.text ?? '', /^Cert Ops: lab\/broken: the rotation failed and was rolled back: .*exit 3.*reload refused.*the old files are back and the old certificate is served/);
    assert.deepEqual(warning?.items, ['Show Evidence']);
    assert.deepEqual(readFileSync(polled!.certFile), before.cert);
    assert.deepEqual(readFileSync(polled!.keyFile), before.key);
    assert.equal(await served(polled!), sha256(third.der));
    const md = readFileSync(out.evidence[out.evidence.length - 1], 'utf8');
    assert.match(md, /\*\*rolled-back\*\*/);
  });

  it('cancelling a rotation after the placement rolls it back', async () => {
    const before = { cert: readFileSync(polled!.certFile), key: readFileSync(polled!.keyFile) };
    const sub = api.hosts.rotation.onDidStep((e) => {
      // The polling server has not picked the new files up yet: cancel, as the notification's Cancel does.
      if (e.label === 'lab/polled' && e.step === 'verify' && e.status === 'start') api.hosts.rotation.cancelRunning();
    });
    let out: RotationOutcome | undefined;
    try {
      out = await rotate('polled', { cert: join(folder, 'fourth.crt'), key: join(folder, 'fourth.key') });
    } finally {
      sub.dispose();
    }
    assert.ok(out);
    assert.deepEqual(out.results.map((r) => r.state), ['rolled-back'], out.results[0]?.message);
    assert.match(out.results[0].message, /cancel/);
    assert.deepEqual(readFileSync(polled!.certFile), before.cert);
    assert.deepEqual(readFileSync(polled!.keyFile), before.key);
    assert.equal(await served(polled!), sha256(third.der));
    assert.match(shown.find((s) => s.kind === 'warning' && !s.modal)?.text ?? '', /^Cert Ops: lab\/polled: the rotation was cancelled and rolled back: .*cancelled.*the old files are back/);
  });
});
