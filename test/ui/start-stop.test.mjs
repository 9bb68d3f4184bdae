// `npm start` stops everything it started on Ctrl-C (SIGINT) and on SIGTERM: each test
// runs test/tools/check-start-stop.mjs, which starts it, waits for "running", sends the
// signal and checks by pid that no process of code-server or the demo lab remains.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = resolve(import.meta.dirname, '..', '..');

describe('npm start and a signal', { concurrency: false }, () => {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    it(`leaves nothing it started running after ${signal}`, () => {
      const r = spawnSync(process.execPath, ['test/tools/check-start-stop.mjs', signal], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /none of the \d+ is running/);
    });
  }
});
