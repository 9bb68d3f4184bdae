// The hosts tree's rows and the expiry monitor's decisions, as pure data from the engine's statuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTree, display, ItemSpec, modeText, statusKey, TreeModel } from '../../client/src/hosts/items';
import { crossings, expiryLevel, ExpiryLevel, nearestExpiry } from '../../client/src/hosts/expiry';
import type { EndpointStatus } from '../../server/src/hosts';
import type { Inventory } from '../../server/src/inventory';

const inventory: Inventory = {
  file: '/w/certops.json',
  hosts: [
    {
      name: 'web1',
      ssh: { host: '10.0.0.5', port: 2222, user: 'deploy', sudo: true },
      endpoints: [
        {
          name: 'https',
          probe: { host: '10.0.0.5', port: 443, servername: 'api.example.com' },
          files: { cert: '/etc/nginx/tls/server.crt', key: '/etc/nginx/tls/server.key', ca: '/etc/nginx/tls/ca.crt' },
          reload: { kind: 'signal', pidFile: '/run/nginx.pid' },
          expiry: { warningDays: 20, criticalDays: 5 },
        },
        { name: 'redis', probe: { host: '127.0.0.1', port: 6380, via: 'ssh' }, files: { cert: '/etc/redis/tls.crt' }, reload: { kind: 'none' } },
      ],
    },
    { name: 'db', ssh: 'db-alias', endpoints: [] },
  ],
};

const cert = (subject: string, sha256: string, daysLeft: number) => ({ subject, issuer: 'CN=Lab CA', serialNumber: '01', sha256, spkiSha256: `spki-${sha256}`, notAfter: '2027-01-01T00:00:00.000Z', daysLeft, sans: [] });

function status(endpoint: string, states: EndpointStatus['states'], extra: Partial<EndpointStatus> = {}): EndpointStatus {
  return {
    host: 'web1',
    endpoint,
    states,
    messages: states.map((s) => `message for ${s}`),
    files: {
      cert: { path: '/etc/nginx/tls/server.crt', stat: { path: '/etc/nginx/tls/server.crt', mode: 0o644, uid: 0, gid: 0, owner: 'root', group: 'root', size: 1200, mtimeMs: 0, isFile: true, isDirectory: false }, certificate: cert('CN=api.example.com', 'aa11', 40) },
      key: { path: '/etc/nginx/tls/server.key', stat: { path: '/etc/nginx/tls/server.key', mode: 0o640, uid: 0, gid: 33, owner: 'root', size: 241, mtimeMs: 0, isFile: true, isDirectory: false } },
    },
    served: { ...cert('CN=api.example.com', 'bb22', 7), chain: ['bb22'] },
    checkedAt: '2026-12-03T10:00:00.000Z',
    ...extra,
  };
}

const flatten = (items: ItemSpec[]): ItemSpec[] => items.flatMap((i) => [i, ...flatten(i.children)]);
const find = (items: ItemSpec[], id: string): ItemSpec => {
  const item = flatten(items).find((i) => i.id === id);
  assert.ok(item, `no item ${id}`);
  return item;
};

describe('hosts tree rows', () => {
  it('lists hosts and endpoints before any check, each endpoint "not checked yet" with its files', () => {
    const tree = buildTree({ inventory, statuses: new Map(), busy: new Set() });
    assert.deepEqual(tree.map((h) => [h.label, h.description]), [['web1', 'deploy@10.0.0.5:2222'], ['db', 'ssh alias db-alias']]);
    const https = find(tree, 'endpoint:web1/https');
    assert.equal(https.description, 'not checked yet');
    assert.deepEqual(https.children.map((c) => [c.label, c.description]), [
      ['cert', '/etc/nginx/tls/server.crt'],
      ['key', '/etc/nginx/tls/server.key'],
      ['CA', '/etc/nginx/tls/ca.crt'],
    ]);
    assert.match(https.contextValue, /\bprobeable\b/);
  });

  it('after a check: the on-disk and served certificates, files with mode and owner, and the status sentences', () => {
    const s = status('https', ['served-differs', 'key-exposed']);
    const model: TreeModel = { inventory, statuses: new Map([[statusKey('web1', 'https'), s]]), busy: new Set() };
    const https = find(buildTree(model), 'endpoint:web1/https');
    assert.equal(https.description, 'served ≠ on disk, key readable by group or others · 40 days left');
    assert.equal(https.icon.id, 'diff');
    const disk = find([https], 'endpoint:web1/https:disk');
    assert.equal(disk.description, 'CN=api.example.com · 40 days left');
    assert.equal(disk.sha256, 'aa11');
    assert.equal(disk.tooltip, 'CN=api.example.com\nnot after 2027-01-01T00:00:00.000Z\nSHA-256 aa11\n/etc/nginx/tls/server.crt');
    assert.match(disk.contextValue, /\bfingerprint\b/);
    const served = find([https], 'endpoint:web1/https:served');
    assert.equal(served.description, 'CN=api.example.com · 7 days left');
    assert.equal(served.sha256, 'bb22');
    assert.equal(find([https], 'endpoint:web1/https:cert').description, '/etc/nginx/tls/server.crt · 0644 root:root');
    assert.equal(find([https], 'endpoint:web1/https:key').description, '/etc/nginx/tls/server.key · 0640 root:33');
    assert.deepEqual(https.children.filter((c) => c.contextValue === 'certops:message').map((c) => c.label), ['message for served-differs', 'message for key-exposed']);
    const host = buildTree(model)[0];
    assert.equal(host.description, 'deploy@10.0.0.5:2222 · 1 of 2 need attention');
  });

  it('an unreachable endpoint shows the reason where the served certificate would be', () => {
    const s = status('https', ['unreachable'], { served: undefined, probeError: 'connect ECONNREFUSED 10.0.0.5:443', files: { cert: { path: '/etc/nginx/tls/server.crt', error: 'ssh: timed out' } } });
    const https = find(buildTree({ inventory, statuses: new Map([[statusKey('web1', 'https'), s]]), busy: new Set() }), 'endpoint:web1/https');
    assert.equal(find([https], 'endpoint:web1/https:served').description, 'connect ECONNREFUSED 10.0.0.5:443');
    assert.equal(find([https], 'endpoint:web1/https:cert').description, '/etc/nginx/tls/server.crt · ssh: timed out');
    assert.equal(https.icon.color, 'list.errorForeground');
  });

  it('a check in flight spins; untrusted strings lose their control characters and are bounded', () => {
    const busy = find(buildTree({ inventory, statuses: new Map(), busy: new Set([statusKey('web1', 'https')]) }), 'endpoint:web1/https');
    assert.equal(busy.description, 'checking…');
    assert.equal(busy.icon.id, 'loading~spin');
    assert.equal(display('CN=evil\u001b[2J\nx\u202e'), 'CN=evil\\x1B[2J\\x0Ax\\u{202E}');
    assert.equal(display('x'.repeat(1000)).length, 200);
    assert.equal(modeText(0o100600), '0600');
  });
});

describe('expiry monitor decisions', () => {
  const https = inventory.hosts[0].endpoints[0];
  it('levels: expired, critical within the endpoint criticalDays, warning, ok', () => {
    assert.equal(expiryLevel(status('https', ['expired']), https, 7), 'expired');
    assert.equal(expiryLevel(status('https', ['expiring']), https, 7), 'warning', 'served in 7 days, endpoint critical at 5');
    assert.equal(expiryLevel(status('https', ['expiring']), undefined, 7), 'critical', 'the setting (7) applies without an endpoint threshold');
    assert.equal(expiryLevel(status('https', ['ok']), https, 7), 'ok');
  });

  it('notifies each crossing once, and again after the endpoint recovered and fell back', () => {
    const seen = new Map<string, ExpiryLevel>();
    const s = status('https', ['expiring']);
    assert.deepEqual(crossings(seen, [{ status: s, level: 'warning' }]).map((c) => [c.key, c.level]), [['web1/https', 'warning']]);
    assert.deepEqual(crossings(seen, [{ status: s, level: 'warning' }]), [], 'the same level is not notified twice');
    assert.deepEqual(crossings(seen, [{ status: s, level: 'critical' }]).map((c) => c.level), ['critical']);
    assert.deepEqual(crossings(seen, [{ status: s, level: 'ok' }]), []);
    assert.deepEqual(crossings(seen, [{ status: s, level: 'warning' }]).map((c) => c.level), ['warning']);
    // Unreachable (nothing read) keeps the last level rather than counting as recovered.
    const down = status('https', ['unreachable'], { served: undefined, files: { cert: { path: '/x', error: 'down' } } });
    assert.deepEqual(crossings(seen, [{ status: down, level: 'ok' }]), []);
    assert.equal(seen.get('web1/https'), 'warning');
  });

  it('the nearest expiry is the earliest of on-disk and served, across endpoints', () => {
    const a = status('https', ['ok']);
    const b = status('redis', ['ok'], { served: undefined, files: { cert: { path: '/etc/redis/tls.crt', certificate: cert('CN=redis', 'cc', 3) } } });
    const n = nearestExpiry([a, b]);
    assert.equal(n?.key, 'web1/redis');
    assert.equal(n?.daysLeft, 3);
    assert.equal(nearestExpiry([]), undefined);
  });
});
