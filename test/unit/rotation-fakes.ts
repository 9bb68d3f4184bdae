/**
 * Fakes for rotation unit tests: a "host" whose scripts run with the real
 * /bin/sh in a temporary directory (so the quoting, modes and renames are the
 * real ones), with fault injection per script; and a TLS "server" in memory
 * that, like nginx, loads the files on reload only when the key fits the
 * certificate and otherwise keeps serving the old one.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import { analyzeDocument, decodeFileBytes } from '../../server/src/analysis';
import type { EndpointEntry, ExecResult, RemoteHost, RemoteStat } from '../../server/src/rotation/contract';
import { leafOf } from '../../server/src/rotation/preflight';
import type { RotationDeps } from '../../server/src/rotation/transaction';

/** A fault: given a script, return a result to fake, a script to run instead, or undefined to run it. */
export type Fault = (script: string, stdin?: Buffer) => ExecResult | string | undefined;

const result = (code: number, stderr = ''): ExecResult => ({ code, stdout: Buffer.alloc(0), stderr: Buffer.from(stderr) });

/** Runs every script locally with sh; `faults` are consulted in order before each. */
export class LocalHost implements RemoteHost {
  readonly name = 'fake';
  readonly sudo = false;
  faults: Fault[] = [];
  /** Every script and shell command run, in order. */
  readonly log: string[] = [];
  /** When set, every call fails as a dropped connection would. */
  dead = false;
  /** Handler for execShell commands (reload commands, hooks, checks); default runs them with sh. */
  shell: (command: string) => ExecResult | undefined = () => undefined;

  async exec(argv: string[], opts: { stdin?: Buffer } = {}): Promise<ExecResult> {
    if (this.dead) throw new Error('connection lost');
    let script = argv[2];
    this.log.push(script);
    for (const f of this.faults) {
      const r = f(script, opts.stdin);
      if (typeof r === 'string') script = r;
      else if (r) return r;
    }
    const r = spawnSync(argv[0], [argv[1], script], { input: opts.stdin ?? Buffer.alloc(0) });
    return { code: r.status, signal: r.signal ?? undefined, stdout: r.stdout, stderr: r.stderr };
  }

  async execShell(command: string): Promise<ExecResult> {
    if (this.dead) throw new Error('connection lost');
    this.log.push(`shell: ${command}`);
    const handled = this.shell(command);
    if (handled) return handled;
    const r = spawnSync('/bin/sh', ['-c', command]);
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  async readFile(path: string, opts: { maxBytes?: number } = {}): Promise<Buffer> {
    if (this.dead) throw new Error('connection lost');
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(statSync(path).size, opts.maxBytes ?? Infinity));
      readSync(fd, buf, 0, buf.length, 0);
      return buf;
    } finally {
      closeSync(fd);
    }
  }

  async stat(path: string): Promise<RemoteStat | undefined> {
    try {
      const s = statSync(path);
      return { path, mode: s.mode & 0o777, uid: s.uid, gid: s.gid, size: s.size, mtimeMs: s.mtimeMs, isFile: s.isFile(), isDirectory: s.isDirectory() };
    } catch {
      return undefined;
    }
  }

  async forwardOut(): Promise<Duplex> {
    throw new Error('not used by these tests');
  }

  close(): void {}
}

/** A server that serves the leaf of its certificate file, reloading it only when the key fits. */
export class FakeServer {
  served: string;
  reloads = 0;
  /** When false, reload does nothing (a server that ignores the signal). */
  reacts = true;
  down = false;

  constructor(
    readonly certFile: string,
    readonly keyFile: string,
  ) {
    this.served = this.leafSha();
  }

  private leafSha(): string {
    const leaf = leafOf(readFileSync(this.certFile));
    if (!leaf) throw new Error('no certificate');
    return leaf.sha256;
  }

  reload(): void {
    this.reloads++;
    if (!this.reacts) return;
    const leaf = leafOf(readFileSync(this.certFile));
    const key = analyzeDocument(decodeFileBytes(readFileSync(this.keyFile))).blocks.find((b) => b.privateKey)?.privateKey;
    // Like nginx on "key values mismatch": the old context stays.
    if (leaf && key?.spkiSha256 === leaf.spkiSha256) this.served = leaf.sha256;
  }

  async probe(): Promise<{ sha256: string; chain: string[] }> {
    if (this.down) throw new Error('connection refused');
    return { sha256: this.served, chain: [this.served] };
  }
}

/** Deps wired to a LocalHost and a FakeServer whose reload command is "reload-fake". */
export function fakeDeps(endpoint: EndpointEntry, host: LocalHost, server: FakeServer, extra: Partial<RotationDeps> = {}): RotationDeps {
  host.shell = (command) => {
    if (command === 'reload-fake') {
      server.reload();
      return { code: 0, stdout: Buffer.from('reloaded\n'), stderr: Buffer.alloc(0) };
    }
    return undefined;
  };
  return {
    host: 'web1',
    endpoint,
    remote: host,
    probe: () => server.probe(),
    who: 'tester@test',
    machine: hostname(),
    pid: process.pid,
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    random: () => `r${process.pid}x${counter++}`,
    isAlive: () => true,
    ...extra,
  };
}

export { result };

let counter = 0;
