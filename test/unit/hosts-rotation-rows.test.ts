// The hosts tree's rows for rotations: a lock left by an interrupted rotation, and a rotation under way.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTree, ItemSpec } from '../../client/src/hosts/items';
import type { EndpointStatus } from '../../server/src/hosts';
import type { Inventory } from '../../server/src/inventory';

const inventory: Inventory = {
  file: '/w/certops.json',
  hosts: [
    {
      name: 'web1',
      ssh: { host: '10.0.0.5' },
      endpoints: [
        { name: 'https', probe: { host: '10.0.0.5', port: 443 }, files: { cert: '/etc/tls/server.crt', key: '/etc/tls/server.key' }, reload: { kind: 'signal', pidFile: '/run/nginx.pid' } },
        { name: 'smtp', probe: { host: '10.0.0.5', port: 25, starttls: 'smtp' }, files: { cert: '/etc/tls/mail.crt' }, reload: { kind: 'none' } },
      ],
    },
  ],
};

const ok = (endpoint: string): EndpointStatus => ({
  host: 'web1',
  endpoint,
  states: ['ok'],
  messages: [],
  files: { cert: { path: '/etc/tls/server.crt' } },
  checkedAt: '2026-12-03T10:00:00.000Z',
});

const endpoint = (tree: ItemSpec[], name: string): ItemSpec => {
  const e = tree[0].children.find((c) => c.endpoint === name);
  assert.ok(e, `no endpoint ${name}`);
  return e;
};

describe('hosts tree rows for rotations', () => {
  const statuses = new Map([['web1/https', ok('https')], ['web1/smtp', ok('smtp')]]);

  it('a rotation lock found on an endpoint is its first row, flagged in its description and context value', () => {
    const lock = 'interrupted rotate 20261203T090000Z-ab12 by ops@laptop (phase placed, 2026-12-03T09:00:05.000Z); Rotate or Roll Back finishes it';
    const tree = buildTree({ inventory, statuses, busy: new Set(), interrupted: new Map([['web1/https', lock]]) });
    const https = endpoint(tree, 'https');
    assert.equal(https.description, 'rotation lock, OK');
    assert.equal(https.contextValue, 'certops:endpoint refreshable probeable interrupted');
    assert.deepEqual(
      { label: https.children[0].label, contextValue: https.children[0].contextValue, icon: https.children[0].icon.id },
      { label: lock, contextValue: 'certops:message interrupted', icon: 'warning' },
    );
    // The other endpoint is untouched.
    const smtp = endpoint(tree, 'smtp');
    assert.equal(smtp.description, 'OK');
    assert.ok(!smtp.children.some((c) => c.contextValue.includes('interrupted')));
  });

  it('the journal\'s words are untrusted: control characters are shown escaped', () => {
    const tree = buildTree({ inventory, statuses, busy: new Set(), interrupted: new Map([['web1/https', 'interrupted rotate x by \u001b[31mevil\u0007']]) });
    const row = endpoint(tree, 'https').children[0];
    assert.ok(![...row.label].some((c) => c.charCodeAt(0) < 0x20), row.label);
    assert.match(row.label, /evil/);
  });

  it('an endpoint being rotated spins and names the step under way, and so does its host', () => {
    const tree = buildTree({ inventory, statuses, busy: new Set(), rotating: new Map([['web1/https', 'verifying: probing for the new certificate']]) });
    const https = endpoint(tree, 'https');
    assert.equal(https.description, 'rotating: verifying: probing for the new certificate…');
    assert.equal(https.icon.id, 'loading~spin');
    assert.equal(tree[0].icon.id, 'loading~spin');
    assert.equal(endpoint(tree, 'smtp').icon.id, 'pass');
  });
});
