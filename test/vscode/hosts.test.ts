// The hosts view against the real lab (OpenSSH sshd and nginx on loopback,
// started here in the extension host): the tree populated from a certops.json,
// an endpoint's status, and a remote certificate opened through certops-remote:.
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CertopsApi } from '../../client/src/extension';
import type { ItemSpec } from '../../client/src/hosts/items';
import type { EndpointStatus } from '../../server/src/hosts';
import { CA_EXT, DAY, Issued, leafExt, Pki, ROOT_EXT } from '../fixtures/pki';
import { NginxLab, SshHostLab, startNginx, startSshHost, writeInventory } from '../lab/harness';
import { activateCertops, hoverText, sampleFolder, screenshot, trustLabHost, until } from './helpers';

let api: CertopsApi;
let pki: Pki;
let inter: Issued, leaf: Issued, renewed: Issued;
let nginx: NginxLab | undefined;
let ssh: SshHostLab | undefined;

const refresh = () => vscode.commands.executeCommand<EndpointStatus[]>('certops.hosts.refresh');
const rows = (parent?: ItemSpec) => api.hosts.tree.getChildren(parent);
const row = (parent: ItemSpec, label: string) => {
  const r = rows(parent).find((c) => c.label === label);
  assert.ok(r, `no "${label}" row under ${parent.label}: ${rows(parent).map((c) => c.label).join(', ')}`);
  return api.hosts.tree.getTreeItem(r);
};
const remote = (path: string) => vscode.Uri.from({ scheme: 'certops-remote', path: `/lab${path}` });

function renewedSha256(): string {
  return createHash('sha256').update(renewed.der).digest('hex');
}

/** certops.json in the workspace: the lab host and its nginx endpoint. */
function writeLabInventory(): void {
  writeInventory(sampleFolder().root.fsPath, {
    hosts: [
      {
        name: 'lab',
        ssh: { host: ssh!.host, port: ssh!.port, user: ssh!.username, identityFile: ssh!.userKeyPath },
        endpoints: [
          {
            name: 'https',
            probe: { host: nginx!.host, port: nginx!.port, servername: 'lab.certops.test' },
            files: { cert: nginx!.certFile, key: nginx!.keyFile, ca: join(nginx!.dir, 'ca.crt') },
            reload: { kind: 'signal', pidFile: join(nginx!.dir, 'nginx.pid') },
          },
        ],
      },
    ],
  });
}

describe('the hosts view against a real sshd and nginx', function () {
  // Installing sshd and nginx with apt, on a fresh machine, takes a while.
  this.timeout(300_000);

  before(async () => {
    api = (await activateCertops()) as unknown as CertopsApi;
    pki = new Pki();
    const root = pki.issue('root', { subject: '/CN=Hosts Lab Root', ext: ROOT_EXT, notAfter: 365 * DAY });
    inter = pki.issue('inter', { subject: '/CN=Hosts Lab Intermediate', issuer: root, ext: CA_EXT, notAfter: 300 * DAY });
    const san = leafExt('DNS:lab.certops.test,IP:127.0.0.1');
    leaf = pki.issue('leaf', { subject: '/CN=lab.certops.test', issuer: inter, ext: san, notAfter: 60 * DAY });
    renewed = pki.issue('renewed', { subject: '/CN=lab.certops.test', issuer: inter, ext: san, notAfter: 90 * DAY });
    nginx = await startNginx({ cert: leaf.pem + inter.pem, key: leaf.keyPem });
    writeFileSync(join(nginx.dir, 'ca.crt'), root.pem);
    ssh = await startSshHost();

    // The lab host's key is the only one trusted: a known_hosts file in the workspace, named in the user settings.
    const folder = sampleFolder().root.fsPath;
    const knownHosts = await trustLabHost(folder, ssh.knownHostsLine, '.certops-');
    writeLabInventory();
    const session = api.hosts.session;
    await until('the inventory to load', () => session.state === 'loaded' && session.settings.knownHostsFile === knownHosts && session.inventory?.hosts.length === 1);
  });

  after(async () => {
    await nginx?.stop();
    await ssh?.stop();
    pki?.dispose();
  });

  it('lists the lab host, its endpoint as OK, and the files with mode and owner', async () => {
    const statuses = await refresh();
    assert.deepEqual(statuses.map((s) => [s.host, s.endpoint, s.states]), [['lab', 'https', ['ok']]], JSON.stringify(statuses.map((s) => s.messages)));
    const [host] = rows();
    assert.equal(api.hosts.tree.getTreeItem(host).label, 'lab');
    assert.match(String(api.hosts.tree.getTreeItem(host).description), /all OK$/);
    const [endpoint] = rows(host);
    const item = api.hosts.tree.getTreeItem(endpoint);
    assert.equal(item.label, 'https');
    assert.match(String(item.description), /^OK · (59|60) days left$/);
    assert.deepEqual(rows(endpoint).map((r) => r.label), ['on disk', 'served', 'cert', 'key', 'CA']);
    assert.match(String(row(endpoint, 'on disk').description), /^CN=lab\.certops\.test · (59|60) days left$/);
    assert.match(String(row(endpoint, 'served').description), /^CN=lab\.certops\.test · (59|60) days left$/);
    assert.match(String(row(endpoint, 'key').description), new RegExp(`^${nginx!.keyFile} · 0600 (root|0):(root|0)$`));
    assert.match(String(row(endpoint, 'cert').description), / · 0644 (root|0):(root|0)$/);
    assert.equal(row(endpoint, 'served').contextValue, 'certops:served fingerprint');
    // "Copy SHA-256 Fingerprint" on the served row copies what the probe saw.
    await vscode.commands.executeCommand('certops.hosts.copyFingerprint', rows(endpoint).find((r) => r.label === 'served'));
    assert.equal(await vscode.env.clipboard.readText(), statuses[0].served?.sha256);
    // The status bar names the nearest expiry across the inventory.
    assert.match(api.hosts.monitor.statusBarText, /^\$\(shield\) lab\/https (59|60)d$/);
  });

  it('opens a remote certificate read-only through certops-remote:, decoded and paired with its key by the language server', async () => {
    assert.equal(vscode.workspace.fs.isWritableFileSystem('certops-remote'), false);
    const cert = await vscode.workspace.openTextDocument(remote(nginx!.certFile));
    await vscode.window.showTextDocument(cert);
    assert.equal(cert.languageId, 'pem');
    assert.equal(cert.getText(), readFileSync(nginx!.certFile, 'utf8'));
    const certHover = await until('a hover on the remote certificate', async () => {
      const t = await hoverText(cert.uri, new vscode.Position(1, 3));
      return t || undefined;
    });
    assert.match(certHover, /CN=lab\.certops\.test/);
    assert.match(certHover, /expires in (59|60) days/);

    // The key is paired with server.crt beside it on the host, read through certops/readSibling.
    const key = await vscode.workspace.openTextDocument(remote(nginx!.keyFile));
    await vscode.window.showTextDocument(key);
    const keyHover = await until('a hover on the remote key', async () => {
      const t = await hoverText(key.uri, new vscode.Position(1, 3));
      return t || undefined;
    });
    assert.match(keyHover, /matches block 1 of server\.crt/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('a certificate renewed on disk but not reloaded shows "served ≠ on disk" until nginx reloads', async () => {
    writeFileSync(nginx!.certFile, renewed.pem + inter.pem);
    writeFileSync(nginx!.keyFile, renewed.keyPem, { mode: 0o600 });
    const [s] = await refresh();
    assert.deepEqual(s.states, ['served-differs'], s.messages.join('; '));
    const [host] = rows();
    const [endpoint] = rows(host);
    assert.match(String(api.hosts.tree.getTreeItem(endpoint).description), /^served ≠ on disk · (89|90) days left$/);
    assert.match(String(row(endpoint, 'served').description), /(59|60) days left$/);
    assert.ok(rows(endpoint).some((r) => /renewed but not reloaded/.test(r.label)), 'the status sentence is a row of the endpoint');

    // A document read before the renewal is re-read after the refresh, not left holding the old file.
    const certUri = remote(nginx!.certFile).toString();
    await until('the open remote certificate to be re-read', () =>
      vscode.workspace.textDocuments.some((d) => d.uri.toString() === certUri && d.getText() === renewed.pem + inter.pem),
    );
    // The "on disk" row opens it; a fresh editor, so its summary lines are the renewed file's.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('certops.hosts.open', rows(endpoint).find((r) => r.label === 'on disk'));
    const editor = await until('the remote certificate in an editor', () =>
      vscode.window.activeTextEditor?.document.uri.toString() === certUri ? vscode.window.activeTextEditor : undefined,
    );
    assert.match(await hoverText(editor.document.uri, new vscode.Position(1, 3)), /expires in (89|90) days/);
    await until('the summary line of the renewed leaf', async () => {
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri);
      return lenses.some((l) => /^leaf .* in (89|90) days$/.test(l.command?.title ?? ''));
    });

    await vscode.commands.executeCommand('certops.hosts.focus');
    const current = api.hosts.tree.find(endpoint.id);
    assert.ok(current);
    await api.hosts.view.reveal(current, { expand: true, focus: true, select: true });
    // Narrowing the editor widens the side bar, so the rows' descriptions show in the picture.
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    for (let i = 0; i < 6; i++) await vscode.commands.executeCommand('workbench.action.decreaseViewWidth');
    await api.hosts.view.reveal(current, { expand: true, focus: true, select: true });
    await screenshot('hosts.png');

    nginx!.reload();
    const after = await until('nginx to serve the renewed certificate', async () => {
      const [r] = await refresh();
      return r.states.includes('ok') ? r : undefined;
    });
    assert.equal(after.served?.sha256, after.files.cert.certificate?.sha256);
    // "Probe Endpoint" on the endpoint's row checks it alone.
    const probed = await vscode.commands.executeCommand<EndpointStatus>('certops.hosts.probe', api.hosts.tree.find(endpoint.id));
    assert.deepEqual(probed.states, ['ok']);
    assert.equal(probed.served?.sha256, renewedSha256());
  });

  it('imports hosts from an SSH config into certops.json, keeping the existing entries', async () => {
    const folder = sampleFolder().root.fsPath;
    const from = join(folder, '.certops-import_config');
    writeFileSync(from, 'Host imported1 imported2\n  HostName 127.0.0.9\nHost *\n  User nobody\n');
    await vscode.commands.executeCommand('certops.importHosts', { from, format: 'ssh' });
    const session = api.hosts.session;
    await until('the imported hosts in the tree', () => session.inventory?.hosts.length === 3);
    assert.deepEqual(rows().map((r) => [r.label, r.description]), [
      ['lab', `root@127.0.0.1:${ssh!.port} · all OK`],
      ['imported1', 'ssh alias imported1'],
      ['imported2', 'ssh alias imported2'],
    ]);
    const written = JSON.parse(readFileSync(join(folder, 'certops.json'), 'utf8'));
    assert.equal(written.hosts[0].endpoints[0].files.cert, nginx!.certFile);
  });

  it('an invalid certops.json is named in the view with the JSON path of the problem', async () => {
    const folder = sampleFolder().root.fsPath;
    writeInventory(folder, { hosts: [{ name: 'x', ssh: 'x', endpoints: [{ name: 'e', probe: { host: 'h', port: 70000 }, files: { cert: '/c' }, reload: { kind: 'none' } }] }] });
    await until('the inventory to be refused', () => api.hosts.session.state === 'invalid');
    assert.match(String(api.hosts.view.message), /certops\.json: \$\.hosts\[0\]\.endpoints\[0\]\.probe\.port: /);
    assert.deepEqual(rows(), []);
  });

  it('a changed host key is refused: the endpoint is unreachable, naming the known_hosts line', async () => {
    writeLabInventory();
    await until('the inventory to load again', () => api.hosts.session.state === 'loaded' && api.hosts.session.inventory?.hosts.length === 1);
    await ssh!.rotateHostKey();
    // New SSH settings close the pooled connection, so the next check connects afresh.
    const folder = sampleFolder().root.fsPath;
    writeFileSync(join(folder, '.certops-ssh_config2'), '');
    await vscode.workspace.getConfiguration('certops').update('ssh.configFile', join(folder, '.certops-ssh_config2'), vscode.ConfigurationTarget.Global);
    await until('the new SSH settings', () => api.hosts.session.settings.sshConfigFile?.endsWith('.certops-ssh_config2'));
    const [s] = await refresh();
    assert.equal(s.states[0], 'unreachable');
    assert.match(s.messages.join('\n'), /HOST KEY CHANGED.*\.certops-known_hosts:1/);
    const [endpoint] = rows(rows()[0]);
    assert.match(String(api.hosts.tree.getTreeItem(endpoint).description), /^unreachable/);
    assert.ok(rows(endpoint).some((r) => /HOST KEY CHANGED/.test(r.label)));
  });
});
