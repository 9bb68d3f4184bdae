// The remote commands' terminal safety and usage errors, without any host.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../server/src/cli/main';
import { escapeTerminal } from '../../server/src/cli/remote';

test('escapeTerminal neutralises escape sequences, newlines and bidirectional overrides, keeps the text', () => {
  assert.equal(escapeTerminal('\x1b[31mred\x1b[0m'), '\\x1B[31mred\\x1B[0m');
  assert.equal(escapeTerminal('a\nb\rc\x07'), 'a\\x0Ab\\x0Dc\\x07');
  assert.equal(escapeTerminal('\u202egnp.exe'), '\\u{202E}gnp.exe');
  assert.equal(escapeTerminal('\x9b2J'), '\\x9B2J');
  assert.equal(escapeTerminal('CN=ünïcødé,O=Ex\tample'), 'CN=ünïcødé,O=Ex\\x09ample');
});

test('hosts and status: usage errors are one line and exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'certops-cli-hosts-'));
  try {
    const inv = join(dir, 'certops.json');
    writeFileSync(inv, JSON.stringify({ hosts: [{ name: 'web\u001b', ssh: 'x', endpoints: [] }] }));
    let err = '';
    const run = async (...args: string[]) => {
      err = '';
      return main(args, () => undefined, (s) => (err += s));
    };
    assert.equal(await run('status', '--inventory', inv), 2);
    assert.match(err, /^certops status: .*certops\.json: \$\.hosts\[0\]\.name: does not have the expected form/);
    assert.equal(err.split('\n').length, 2);
    writeFileSync(inv, JSON.stringify({ hosts: [] }));
    assert.equal(await run('status', 'web/https', '--inventory', inv), 2);
    assert.match(err, /no host "web"/);
    assert.equal(await run('status', '--concurrency', '0', '--inventory', inv), 2);
    assert.equal(await run('probe', '127.0.0.1:1', '--starttls', 'ftp'), 2);
    assert.match(err, /--starttls: expected one of smtp, imap, postgres, got "ftp"/);
    assert.equal(await run('hosts', 'import', '--ansible', join(dir, 'missing.ini'), '--out', join(dir, 'o.json')), 2);
    assert.match(err, /missing\.ini: no such file/);
    // An empty inventory is all OK: nothing to check.
    let out = '';
    assert.equal(await main(['status', '--inventory', inv], (s) => (out += s), () => undefined), 0);
    assert.equal(out, '0 endpoints: 0 ok, 0 not ok\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
