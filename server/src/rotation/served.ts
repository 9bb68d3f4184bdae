/**
 * What an endpoint serves, and the optional check after a rotation: the
 * engine's probeTls, dialled directly or through the host's SSH connection,
 * with the endpoint's SNI and STARTTLS.
 */
import { spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { probeEndpoint } from '../hosts';
import type { EndpointEntry, ExecResult, RemoteHost } from './contract';

/** The leaf an endpoint served at one handshake. */
export interface Served {
  sha256: string;
  chain: string[];
}

/** Makes one handshake and reports the served leaf; rejects when no handshake completes. */
export type Prober = () => Promise<Served>;

/** A prober for an endpoint: the status module's probe (direct or through `remote`, STARTTLS, SNI as configured). */
export function endpointProber(endpoint: EndpointEntry, remote: RemoteHost, timeoutMs = 5000): Prober {
  return async () => {
    const r = await probeEndpoint(remote, endpoint, timeoutMs);
    return { sha256: r.chain[0].sha256, chain: r.chain.map((c) => c.sha256) };
  };
}

/** The outcome of an endpoint's check. */
export interface CheckOutcome {
  kind: string;
  ok: boolean;
  output: string;
}

const OUTPUT_LIMIT = 4096;

/** The last few KB of a command's output, as text. */
export function outputOf(r: Pick<ExecResult, 'stdout' | 'stderr'>): string {
  const text = Buffer.concat([r.stdout, r.stderr]).toString('utf8');
  return text.length > OUTPUT_LIMIT ? `…${text.slice(-OUTPUT_LIMIT)}` : text;
}

/** Runs the endpoint's check: a command on the host or here that must exit 0, or a send/expect over TLS. */
export async function runCheck(endpoint: EndpointEntry, remote: RemoteHost, timeoutMs = 10_000, opts: { skipSendExpect?: boolean } = {}): Promise<CheckOutcome | undefined> {
  const c = endpoint.check;
  if (!c) return undefined;
  // With a client checklist the send/expect runs once per client certificate instead (see runClientChecklist).
  if (c.command === undefined && opts.skipSendExpect) return undefined;
  if (c.command !== undefined) {
    const r = c.where === 'local' ? await runLocal(c.command, timeoutMs) : await remote.execShell(c.command, { timeoutMs });
    return { kind: `command (${c.where ?? 'host'})`, ok: r.code === 0, output: `${outputOf(r)}${r.code === 0 ? '' : `\n(exit ${r.code ?? r.signal})`}` };
  }
  if (c.send !== undefined || c.expect !== undefined) {
    if (endpoint.probe.starttls) return { kind: 'send/expect', ok: false, output: 'send/expect is not supported on a STARTTLS endpoint; use a command check' };
    const socket = endpoint.probe.via === 'ssh' ? await remote.forwardOut(endpoint.probe.host, endpoint.probe.port) : undefined;
    try {
      const got = await sendExpect(endpoint, socket, c.send, c.expect ?? '', timeoutMs);
      return { kind: 'send/expect', ok: true, output: got };
    } catch (e) {
      return { kind: 'send/expect', ok: false, output: (e as Error).message };
    }
  }
  return undefined;
}

/** Runs a command line here, with the same result shape as a remote one. */
export function runLocal(command: string, timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal: signal ?? undefined, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
  });
}

/** A client certificate of the mutual-TLS checklist and whether the server must accept it. */
export interface ClientCheck {
  label: string;
  cert: Buffer;
  key: Buffer;
  expect: 'accepted' | 'refused';
}

/**
 * The mutual-TLS checklist: each client certificate connects and sends the
 * endpoint's check; accepted means the expected answer came, refused means it
 * did not (handshake refused, connection closed, or another answer).
 */
export async function runClientChecklist(endpoint: EndpointEntry, remote: RemoteHost, clients: ClientCheck[], timeoutMs = 5000): Promise<CheckOutcome> {
  const c = endpoint.check;
  if (c?.expect === undefined) return { kind: 'client checklist', ok: false, output: 'the client checklist needs the endpoint\'s check.send and check.expect' };
  const lines: string[] = [];
  let ok = true;
  for (const client of clients) {
    const socket = endpoint.probe.via === 'ssh' ? await remote.forwardOut(endpoint.probe.host, endpoint.probe.port) : undefined;
    let outcome: 'accepted' | 'refused';
    let detail: string;
    try {
      detail = await sendExpect(endpoint, socket, c.send, c.expect, timeoutMs, client);
      outcome = 'accepted';
    } catch (e) {
      detail = (e as Error).message;
      outcome = 'refused';
    }
    const good = outcome === client.expect;
    ok &&= good;
    lines.push(`${good ? 'ok' : 'FAILED'}: ${client.label} was ${outcome} (expected ${client.expect})${good ? '' : `: ${detail.replace(/\s+/g, ' ').slice(0, 200)}`}`);
  }
  return { kind: 'client checklist', ok, output: lines.join('\n') };
}

/** Sends `send` (CRLF-terminated) over TLS and waits until the answer contains `expect`. */
function sendExpect(endpoint: EndpointEntry, socket: Duplex | undefined, send: string | undefined, expect: string, timeoutMs: number, client?: { cert: Buffer; key: Buffer }): Promise<string> {
  const p = endpoint.probe;
  return new Promise((resolve, reject) => {
    let got = '';
    const s = tls.connect({
      host: p.host,
      port: p.port,
      ...(socket ? { socket } : {}),
      servername: p.servername,
      rejectUnauthorized: false,
      ...(client ? { cert: client.cert, key: client.key } : {}),
    });
    const done = (e?: Error) => {
      clearTimeout(timer);
      s.destroy();
      if (e) reject(e);
      else resolve(got.slice(0, 512));
    };
    const timer = setTimeout(() => done(new Error(`no "${expect}" within ${timeoutMs / 1000} s; got "${got.slice(0, 200)}"`)), timeoutMs);
    s.once('secureConnect', () => {
      if (send !== undefined) s.write(`${send}\r\n`);
    });
    s.on('data', (d: Buffer) => {
      got += d.toString('utf8');
      if (got.length > 65536) got = got.slice(-65536);
      if (got.includes(expect)) done();
    });
    s.once('error', (e) => done(new Error(`TLS: ${e.message}`)));
    s.once('close', () => done(got.includes(expect) ? undefined : new Error(`connection closed before "${expect}"; got "${got.slice(0, 200)}"`)));
  });
}
