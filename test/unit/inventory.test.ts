// certops.json validation (first problem with its JSON path), selectors, and imports from ssh_config and Ansible.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { main } from '../../server/src/cli/main';
import { findInventory, INVENTORY_SCHEMA, InventoryError, parseInventory, selectEndpoints } from '../../server/src/inventory';
import { expandAnsibleRange, hostsFromAnsibleIni, hostsFromAnsibleYaml, hostsFromSshConfig, mergeHosts } from '../../server/src/inventory/import';

const endpoint = () => ({
  name: 'https',
  probe: { host: '127.0.0.1', port: 8443, servername: 'api.example.com', via: 'ssh' },
  files: { cert: '/etc/nginx/tls/server.crt', key: '/etc/nginx/tls/server.key', ca: '/etc/nginx/tls/ca.crt' },
  reload: { kind: 'signal', signal: 'HUP', pidFile: '/run/nginx.pid' },
  expiry: { warningDays: 7, criticalDays: 2 },
});
const valid = () => ({
  hosts: [
    { name: 'web1', ssh: { host: '127.0.0.1', port: 2222, user: 'deploy', identityFile: '~/.ssh/id_ed25519', proxyJump: 'bastion', sudo: true }, endpoints: [endpoint()] },
    { name: 'db1', ssh: 'db1-alias', endpoints: [{ ...endpoint(), name: 'pg', probe: { host: 'db1', port: 5432, starttls: 'postgres' }, reload: { kind: 'command', command: 'systemctl reload postgresql' } }] },
  ],
});

function problem(mutate: (d: ReturnType<typeof valid>) => void): { jsonPath: string; problem: string } {
  const d = valid();
  mutate(d);
  try {
    parseInventory(JSON.stringify(d), 'certops.json');
  } catch (e) {
    assert.ok(e instanceof InventoryError, String(e));
    assert.equal(e.message, `certops.json: ${e.jsonPath}: ${e.problem}`);
    return { jsonPath: e.jsonPath, problem: e.problem };
  }
  return assert.fail('expected an InventoryError');
}

describe('inventory validation', () => {
  test('the issue\'s example and every reload kind are valid', () => {
    const inv = parseInventory(JSON.stringify(valid()), 'certops.json');
    assert.equal(inv.hosts.length, 2);
    for (const reload of [{ kind: 'signal', process: 'nginx' }, { kind: 'restart', command: 'systemctl restart x' }, { kind: 'watch', intervalSeconds: 30 }, { kind: 'none' }]) {
      const d = valid();
      (d.hosts[0].endpoints[0] as { reload: unknown }).reload = reload;
      parseInventory(JSON.stringify(d), 'certops.json');
    }
    const withExtras = valid();
    Object.assign(withExtras.hosts[0].endpoints[0], { hooks: { before: 'mount -o remount,rw /', after: 'mount -o remount,ro /' }, check: { command: 'curl -fsS https://x', where: 'local' }, keyMode: '0640' });
    parseInventory(JSON.stringify(withExtras), 'certops.json');
    assert.deepEqual(parseInventory('{"hosts": [{"name": "a", "ssh": "a"}]}', 'f').hosts[0].endpoints, [], 'endpoints default to none');
  });

  test('the first problem, with its JSON path', () => {
    assert.deepEqual(problem((d) => (d.hosts[0].endpoints[0].probe.port = 70000)), { jsonPath: '$.hosts[0].endpoints[0].probe.port', problem: 'must be an integer 1-65535' });
    assert.deepEqual(problem((d) => ((d.hosts[1].endpoints[0].probe as { port: unknown }).port = '5432')), { jsonPath: '$.hosts[1].endpoints[0].probe.port', problem: 'must be an integer 1-65535' });
    assert.deepEqual(problem((d) => delete (d.hosts[0] as { ssh?: unknown }).ssh), { jsonPath: '$.hosts[0]', problem: '"ssh" is required' });
    assert.deepEqual(problem((d) => ((d.hosts[0].endpoints[0].files as { cert: string }).cert = 'relative.crt')), { jsonPath: '$.hosts[0].endpoints[0].files.cert', problem: 'must be an absolute path' });
    assert.deepEqual(problem((d) => ((d.hosts[0].endpoints[0].reload as { kind: string }).kind = 'reboot')), { jsonPath: '$.hosts[0].endpoints[0].reload.kind', problem: 'must be one of signal, command, restart, watch, none' });
    assert.deepEqual(problem((d) => (d.hosts[1].endpoints[0].reload = { kind: 'command' } as never)), { jsonPath: '$.hosts[1].endpoints[0].reload', problem: '"command" is required' });
    assert.deepEqual(problem((d) => ((d.hosts[0].endpoints[0].probe as { via: string }).via = 'carrier-pigeon')), { jsonPath: '$.hosts[0].endpoints[0].probe.via', problem: 'must be one of "direct", "ssh"' });
    assert.deepEqual(problem((d) => ((d.hosts[0].ssh as { sudo: unknown }).sudo = 'yes')), { jsonPath: '$.hosts[0].ssh.sudo', problem: 'must be true or false' });
    assert.deepEqual(problem((d) => ((d.hosts[0] as { ssh: unknown }).ssh = 42)), { jsonPath: '$.hosts[0].ssh', problem: 'must be a string or an object' });
    assert.deepEqual(problem((d) => ((d.hosts[0].endpoints[0] as Record<string, unknown>)['relaod'] = {})), { jsonPath: '$.hosts[0].endpoints[0].relaod', problem: 'is not a known property' });
    assert.deepEqual(problem((d) => (d.hosts[1].name = 'web1')), { jsonPath: '$.hosts[1].name', problem: 'duplicate host name "web1"' });
    assert.deepEqual(problem((d) => (d.hosts[0].endpoints as unknown[]).push(endpoint())), { jsonPath: '$.hosts[0].endpoints[1].name', problem: 'duplicate endpoint name "https" in host "web1"' });
    assert.deepEqual(problem((d) => (d.hosts[0].name = 'a/b')), { jsonPath: '$.hosts[0].name', problem: 'does not have the expected form (Letters, digits, space, and _ . @ : - (no slash).)' });
    assert.deepEqual(problem((d) => (d.hosts[0].endpoints[0].expiry = { warningDays: 2, criticalDays: 7 })), { jsonPath: '$.hosts[0].endpoints[0].expiry.criticalDays', problem: 'must not be larger than warningDays' });
  });

  test('not JSON, not an object, no hosts', () => {
    assert.throws(() => parseInventory('{"hosts": [\n  {', 'f.json'), /^Error: f\.json: \$: not valid JSON \(/);
    assert.throws(() => parseInventory('[]', 'f.json'), (e: InventoryError) => e.jsonPath === '$' && e.problem === 'must be an object');
    assert.throws(() => parseInventory('{}', 'f.json'), (e: InventoryError) => e.problem === '"hosts" is required');
  });

  test('the schema is the one VS Code gets: draft-07, strict objects', () => {
    const s = INVENTORY_SCHEMA as unknown as { $schema: string; additionalProperties: boolean; definitions: Record<string, unknown> };
    assert.equal(s.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(s.additionalProperties, false);
    assert.ok(s.definitions.endpoint);
  });

  test('selectors: HOST, HOST/ENDPOINT, unknown names', () => {
    const inv = parseInventory(JSON.stringify(valid()), 'certops.json');
    assert.equal(selectEndpoints(inv).length, 2);
    assert.deepEqual(selectEndpoints(inv, ['db1']).map((p) => p.endpoint.name), ['pg']);
    assert.deepEqual(selectEndpoints(inv, ['web1/https', 'db1/pg']).map((p) => p.host.name), ['web1', 'db1']);
    assert.throws(() => selectEndpoints(inv, ['nope']), /no host "nope"/);
    assert.throws(() => selectEndpoints(inv, ['web1/nope']), /host "web1" has no endpoint "nope"/);
  });

  test('the default inventory is found upward, like git', () => {
    const dir = mkdtempSync(join(tmpdir(), 'certops-inv-'));
    try {
      writeFileSync(join(dir, 'certops.json'), '{"hosts": []}');
      const sub = join(dir, 'a', 'b');
      mkdirSync(sub, { recursive: true });
      assert.equal(findInventory(sub), join(dir, 'certops.json'));
      assert.equal(findInventory(sub, 'x.json'), join(sub, 'x.json'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('import', () => {
  test('ssh_config: one host per concrete alias, patterns skipped', () => {
    const hosts = hostsFromSshConfig('Host web1 web2\n  HostName 10.0.0.1\nHost *.corp !x\n  User a\nHost db-?\n  Port 1\nMatch host foo\n  User b\nHost bastion\n');
    assert.deepEqual(hosts.map((h) => [h.name, h.ssh]), [['web1', 'web1'], ['web2', 'web2'], ['bastion', 'bastion']]);
  });

  test('Ansible INI: ranges, host vars, group vars, [all:vars], children', () => {
    const ini = [
      '# comment',
      'loose ansible_host=192.0.2.1',
      '[web]',
      'web[01:03].example.com ansible_user=deploy',
      '[db]',
      'db1 ansible_host=10.0.0.9 ansible_port=2222 ansible_ssh_private_key_file="~/.ssh/db key"',
      '[prod:children]',
      'db',
      '[prod:vars]',
      'ansible_user=produser',
      'ansible_ssh_common_args=\'-J bastion.example.com\'',
      '[all:vars]',
      'ansible_become=true',
    ].join('\n');
    const hosts = hostsFromAnsibleIni(ini);
    assert.deepEqual(hosts.map((h) => h.name), ['loose', 'web01.example.com', 'web02.example.com', 'web03.example.com', 'db1']);
    assert.deepEqual(hosts[0].ssh, { host: '192.0.2.1', sudo: true });
    assert.deepEqual(hosts[1].ssh, { host: 'web01.example.com', user: 'deploy', sudo: true });
    assert.deepEqual(hosts[4].ssh, { host: '10.0.0.9', port: 2222, user: 'produser', identityFile: '~/.ssh/db key', proxyJump: 'bastion.example.com', sudo: true });
  });

  test('Ansible YAML: nested groups, vars from the outside in, host vars win', () => {
    const yaml = [
      'all:',
      '  vars:',
      '    ansible_user: ops',
      '  hosts:',
      '    lb1:',
      '      ansible_host: 198.51.100.1',
      '  children:',
      '    web:',
      '      vars:',
      '        ansible_port: 2200',
      '      hosts:',
      '        web[a:b]:',
      '        special:',
      '          ansible_user: root',
      '          ansible_become: yes',
    ].join('\n');
    const hosts = hostsFromAnsibleYaml(yaml);
    assert.deepEqual(hosts.map((h) => [h.name, h.ssh]), [
      ['lb1', { host: '198.51.100.1', user: 'ops' }],
      ['weba', { host: 'weba', port: 2200, user: 'ops' }],
      ['webb', { host: 'webb', port: 2200, user: 'ops' }],
      ['special', { host: 'special', port: 2200, user: 'root', sudo: true }],
    ]);
  });

  test('ranges and merging', () => {
    assert.deepEqual(expandAnsibleRange('n[8:10]'), ['n8', 'n9', 'n10']);
    assert.deepEqual(expandAnsibleRange('n[08:10:2]x'), ['n08x', 'n10x']);
    assert.deepEqual(expandAnsibleRange('plain'), ['plain']);
    assert.deepEqual(expandAnsibleRange('s[1:3:0]'), ['s1', 's2', 's3'], 'a zero step counts as one');
    assert.equal(expandAnsibleRange('x[0:99999][0:99999]').length, 10_000, 'nested ranges are capped');
    const m = mergeHosts([{ name: 'a', ssh: 'a', endpoints: [] }], [{ name: 'a', ssh: 'other', endpoints: [] }, { name: 'b', ssh: 'b', endpoints: [] }]);
    assert.deepEqual([m.added, m.skipped, m.hosts.map((h) => h.ssh)], [['b'], ['a'], ['a', 'b']]);
  });

  test('certops hosts import writes a valid certops.json and keeps existing entries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certops-import-'));
    try {
      const cfg = join(dir, 'ssh_config');
      writeFileSync(cfg, 'Host alpha beta\n  HostName 10.9.9.9\n');
      const ini = join(dir, 'hosts.ini');
      writeFileSync(ini, '[g]\ngamma ansible_port=2022\nalpha\n');
      const out = join(dir, 'certops.json');
      writeFileSync(out, JSON.stringify({ hosts: [{ name: 'alpha', ssh: { host: 'keep.me' }, endpoints: [] }] }));
      let stdout = '';
      const code = await main(['hosts', 'import', '--ssh-config', cfg, '--ansible', ini, '--out', out], (s) => (stdout += s), () => undefined);
      assert.equal(code, 0);
      assert.match(stdout, /added 2 hosts \(beta, gamma\); 2 already present \(alpha, alpha\)/);
      const doc = JSON.parse(readFileSync(out, 'utf8'));
      assert.deepEqual(doc.hosts.map((h: { name: string }) => h.name), ['alpha', 'beta', 'gamma']);
      assert.deepEqual(doc.hosts[0].ssh, { host: 'keep.me' });
      parseInventory(readFileSync(out, 'utf8'), out);

      writeFileSync(out, '{"hosts": 1}');
      let err = '';
      assert.equal(await main(['hosts', 'import', '--ssh-config', cfg, '--out', out], () => undefined, (s) => (err += s)), 2);
      assert.match(err, /\$\.hosts: must be an array \(fix it before importing into it\)/);
      assert.equal(readFileSync(out, 'utf8'), '{"hosts": 1}', 'an invalid inventory is not overwritten');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
