/**
 * A TLS handshake that reports what a server actually serves, whether or not it is trusted:
 * the CLI's `probe` and the extension's rotation both use it to tell which certificate is live.
 */
import { createHash } from 'node:crypto';
import { connect as netConnect, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { loadCertificate, matchesHostname, validatePath, ValidationResult } from '../validation';

/** What to connect to and how. */
export interface ProbeOptions {
  host: string;
  port: number;
  /** SNI name. Defaults to `host` when it is a name; an IP address is never sent as SNI. Pass null to send none. */
  servername?: string | null;
  /** The name the leaf must match; defaults to the servername, else the host. */
  checkName?: string;
  /** Client certificate chain and key (PEM) for servers that require mutual TLS. */
  clientCert?: string | Buffer;
  clientKey?: string | Buffer;
  clientKeyPassphrase?: string;
  /** ALPN protocols to offer; defaults to h2 and http/1.1, an empty list offers none. */
  alpn?: string[];
  /** Gives up after this many milliseconds, handshake included (default 10 s). */
  timeoutMs?: number;
  /** When set, the served chain is validated against these trust anchors (PEM or DER) for serverAuth. */
  roots?: (Uint8Array | string)[];
  /** Validation time; defaults to now. */
  at?: Date;
  /** Negotiate TLS inside the protocol first, as `openssl s_client -starttls`. */
  starttls?: StartTlsProtocol;
  /**
   * An already open stream to the server (for example `RemoteHost.forwardOut`, to probe from an
   * SSH host's side); `host` and `port` then only name the target in results and messages.
   */
  socket?: Duplex;
}

/** The protocols whose STARTTLS upgrade probeTls speaks. */
export type StartTlsProtocol = 'smtp' | 'imap' | 'postgres';

/** STARTTLS protocol names, for argument checks. */
export const STARTTLS_PROTOCOLS: readonly StartTlsProtocol[] = ['smtp', 'imap', 'postgres'];

/** One certificate as served, in the order Node reports the chain (leaf first). */
export interface ServedCertificate {
  der: Uint8Array;
  /** Lowercase hex SHA-256 of the DER, no separators. */
  sha256: string;
}

/** What the handshake showed. Trust is not judged here: the chain is returned even when untrusted. */
export interface ProbeResult {
  host: string;
  port: number;
  /** The remote address actually connected to. */
  address: string;
  servername: string | null;
  protocol: string;
  cipher: { name: string; standardName: string; version: string };
  /** The ALPN protocol the server chose, null when none. */
  alpn: string | null;
  chain: ServedCertificate[];
  /** Whether the leaf's subjectAltName covers `name` (RFC 9525; the subject CN is ignored, as by `certops verify`). */
  hostname: { name: string; matches: boolean };
  /**
   * RFC 5280 validation of the served chain against `roots` for serverAuth, without the hostname
   * (that is `hostname`); null when no roots were given.
   */
  verification: ValidationResult | null;
  /** Milliseconds from connect to the end of the handshake. */
  handshakeMs: number;
}

/** Why a probe did not produce a result: no connection, no handshake or no certificate. */
export class ProbeError extends Error {
  constructor(
    message: string,
    /** `ENOTFOUND`, `ECONNREFUSED`, `ETIMEDOUT`, `EHANDSHAKE`, `ENOCERT` or a Node error code. */
    readonly code: string,
  ) {
    super(message);
  }
}

/**
 * Connects, completes the handshake without judging trust and returns the served chain.
 * Rejects with a ProbeError when the server cannot be reached or the handshake fails.
 */
export async function probeTls(opts: ProbeOptions): Promise<ProbeResult> {
  const servername = opts.servername === undefined ? (isIP(opts.host) ? null : opts.host) : opts.servername;
  const checkName = opts.checkName ?? servername ?? opts.host;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const started = Date.now();
  let raw = opts.socket;
  if (opts.starttls) {
    const deadline = started + timeoutMs;
    raw ??= await dialPlain(opts, timeoutMs);
    await startTls(raw, opts.starttls, target(opts), Math.max(1, deadline - Date.now()));
  }
  const remaining = Math.max(1, timeoutMs - (Date.now() - started));
  return new Promise((resolve, reject) => {
    let settled = false;
    const socket = tls.connect({
      ...(raw ? { socket: raw } : { host: opts.host, port: opts.port }),
      ...(servername !== null ? { servername } : {}),
      // Trust is checked by the caller on the returned chain. An empty CA list also stops Node
      // from appending trust-store certificates to the peer chain, so `chain` is only what was served.
      rejectUnauthorized: false,
      ca: [],
      // PostgreSQL rejects an ALPN it does not know in its TLS handshake; the other STARTTLS protocols have none.
      ALPNProtocols: opts.starttls ? (opts.alpn ?? []) : (opts.alpn ?? ['h2', 'http/1.1']),
      cert: opts.clientCert,
      key: opts.clientKey,
      passphrase: opts.clientKeyPassphrase,
    });
    const finish = (error: ProbeError | null, result?: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        socket.destroy();
        raw?.destroy();
      } else {
        // A graceful close flushes our last handshake messages (the client certificate and Finished in
        // TLS 1.3), so a mutual-TLS server completes the handshake instead of logging a hang-up.
        socket.end();
        setTimeout(() => {
          socket.destroy();
          raw?.destroy();
        }, 1000).unref();
      }
      if (error) reject(error);
      else resolve(result as ProbeResult);
    };
    const timer = setTimeout(() => finish(new ProbeError(`${target(opts)}: no TLS handshake within ${timeoutMs / 1000} s`, 'ETIMEDOUT')), remaining);
    socket.once('secureConnect', () => {
      try {
        finish(null, describeConnection(socket, opts, servername, checkName, Date.now() - started));
      } catch (e) {
        finish(e instanceof ProbeError ? e : new ProbeError(`${target(opts)}: ${(e as Error).message}`, 'EHANDSHAKE'));
      }
    });
    socket.once('error', (e: NodeJS.ErrnoException) => finish(new ProbeError(`${target(opts)}: ${describeSocketError(e)}`, socketErrorCode(e))));
    socket.once('close', () => finish(new ProbeError(`${target(opts)}: the connection closed during the TLS handshake`, 'EHANDSHAKE')));
  });
}

/** A plain TCP connection, for a STARTTLS conversation before the handshake. */
function dialPlain(opts: ProbeOptions, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host: opts.host, port: opts.port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ProbeError(`${target(opts)}: connection timed out`, 'ETIMEDOUT'));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ProbeError(`${target(opts)}: ${describeSocketError(e)}`, socketErrorCode(e)));
    });
  });
}

/** Replies longer than this during a STARTTLS exchange mean the peer is not speaking the protocol. */
const MAX_STARTTLS_REPLY = 64 * 1024;

/**
 * The plain-text part of `openssl s_client -starttls PROTO`: SMTP (greeting, EHLO, STARTTLS),
 * IMAP (greeting, STARTTLS) or PostgreSQL (SSLRequest). Resolves when the stream is ready for the handshake.
 */
export function startTls(sock: Duplex, proto: StartTlsProtocol, where: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let stage = 0;
    const done = (e?: ProbeError) => {
      clearTimeout(timer);
      sock.removeListener('data', onData);
      sock.removeListener('error', onError);
      sock.removeListener('close', onClose);
      if (e) {
        sock.destroy();
        reject(e);
      } else {
        // The TLS layer takes the stream over from here; nothing may be left buffered.
        sock.pause();
        resolve();
      }
    };
    const fail = (msg: string) => done(new ProbeError(`${where}: STARTTLS (${proto}): ${msg}`, 'ESTARTTLS'));
    const timer = setTimeout(() => done(new ProbeError(`${where}: STARTTLS (${proto}) did not complete within ${timeoutMs / 1000} s`, 'ETIMEDOUT')), timeoutMs);
    const onError = (e: NodeJS.ErrnoException) => done(new ProbeError(`${where}: ${describeSocketError(e)}`, socketErrorCode(e)));
    const onClose = () => fail('the server closed the connection');
    /** A complete SMTP reply (last line `NNN ` ), or undefined while more is needed. */
    const smtpReply = (): { code: number; text: string } | undefined => {
      const text = buf.toString('latin1');
      const lines = text.split('\r\n');
      for (let i = 0; i < lines.length - 1; i++) {
        if (/^\d{3} /.test(lines[i]) || /^\d{3}$/.test(lines[i])) {
          buf = Buffer.from(lines.slice(i + 1).join('\r\n'), 'latin1');
          return { code: Number(lines[i].slice(0, 3)), text: lines[i].slice(4) };
        }
      }
      return undefined;
    };
    const line = (): string | undefined => {
      const i = buf.indexOf('\r\n');
      if (i < 0) return undefined;
      const l = buf.subarray(0, i).toString('latin1');
      buf = buf.subarray(i + 2);
      return l;
    };
    const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length > MAX_STARTTLS_REPLY) return fail('reply too long');
      if (proto === 'postgres') {
        const b = buf[0];
        if (b === 0x53) return buf.length === 1 ? done() : fail('unexpected data after the SSL answer');
        if (b === 0x4e) return fail('the server does not accept SSL (answered N to SSLRequest)');
        return fail('not a PostgreSQL server (unexpected answer to SSLRequest)');
      }
      if (proto === 'smtp') {
        for (let r = smtpReply(); r; r = smtpReply()) {
          if (stage === 0) {
            if (r.code !== 220) return fail(`greeting ${r.code} ${printable(r.text)}`);
            sock.write('EHLO certops.invalid\r\n');
            stage = 1;
          } else if (stage === 1) {
            if (r.code !== 250) return fail(`EHLO answered ${r.code} ${printable(r.text)}`);
            sock.write('STARTTLS\r\n');
            stage = 2;
          } else {
            if (r.code !== 220) return fail(`STARTTLS answered ${r.code} ${printable(r.text)}`);
            return buf.length === 0 ? done() : fail('unexpected data after the STARTTLS answer');
          }
        }
        return;
      }
      for (let l = line(); l !== undefined; l = line()) {
        if (stage === 0) {
          if (!/^\* (OK|PREAUTH)/i.test(l)) return fail(`greeting ${printable(l)}`);
          sock.write('. STARTTLS\r\n');
          stage = 1;
        } else if (/^\. /.test(l)) {
          if (!/^\. OK/i.test(l)) return fail(`STARTTLS answered ${printable(l)}`);
          return buf.length === 0 ? done() : fail('unexpected data after the STARTTLS answer');
        }
        // Untagged lines (`* CAPABILITY ...`) before the tagged answer are skipped.
      }
    };
    sock.on('data', onData);
    sock.once('error', onError);
    sock.once('close', onClose);
    sock.resume();
    if (proto === 'postgres') {
      // SSLRequest: length 8, code 80877103.
      const req = Buffer.alloc(8);
      req.writeUInt32BE(8, 0);
      req.writeUInt32BE(80877103, 4);
      sock.write(req);
    }
  });
}

function describeConnection(socket: tls.TLSSocket, opts: ProbeOptions, servername: string | null, checkName: string, handshakeMs: number): ProbeResult {
  const chain = servedChain(socket);
  if (chain.length === 0) throw new ProbeError(`${target(opts)}: the server sent no certificate`, 'ENOCERT');
  const cipher = socket.getCipher();
  const alpn = socket.alpnProtocol;
  return {
    host: opts.host,
    port: opts.port,
    address: opts.socket ? opts.host : (socket.remoteAddress ?? opts.host),
    servername,
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: { name: cipher.name, standardName: cipher.standardName, version: cipher.version },
    alpn: typeof alpn === 'string' ? alpn : null,
    chain,
    hostname: { name: checkName, matches: leafMatches(chain[0].der, checkName) },
    verification: opts.roots
      ? validatePath({ leaf: chain[0].der, intermediates: chain.slice(1).map((c) => c.der), roots: opts.roots, at: opts.at, extendedKeyUsage: ['serverAuth'] })
      : null,
    handshakeMs,
  };
}

/** Walks Node's issuer links; a self-signed certificate links to itself, so stop at the first repeat. */
function servedChain(socket: tls.TLSSocket): ServedCertificate[] {
  const chain: ServedCertificate[] = [];
  const seen = new Set<string>();
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert && cert.raw) {
    const der = new Uint8Array(cert.raw);
    const sha256 = createHash('sha256').update(der).digest('hex');
    if (seen.has(sha256)) break;
    seen.add(sha256);
    chain.push({ der, sha256 });
    cert = cert.issuerCertificate;
  }
  return chain;
}

/** True when the leaf certificate's subjectAltName covers `name`, a DNS name or an IP address. */
export function leafMatches(der: Uint8Array, name: string): boolean {
  const bare = name.replace(/^\[(.*)\]$/, '$1');
  try {
    return matchesHostname(loadCertificate(der), { kind: isIP(bare) ? 'IP' : 'DNS', value: bare });
  } catch {
    return false;
  }
}

/** Splits `host:port`, `[v6]:port` or a bare host (port 443); throws on anything else. */
export function parseTarget(spec: string, defaultPort = 443): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  const m = v6 ?? /^([^:[\]]+)(?::(\d+))?$/.exec(spec);
  if (!m || (v6 && isIP(m[1]) !== 6)) {
    if (isIP(spec) === 6) return { host: spec, port: defaultPort };
    throw new Error(`"${spec}" is not HOST:PORT or [IPv6]:PORT`);
  }
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${spec}": port must be 1-65535`);
  return { host: m[1], port };
}

function target(opts: ProbeOptions): string {
  return isIP(opts.host) === 6 ? `[${opts.host}]:${opts.port}` : `${opts.host}:${opts.port}`;
}

function socketErrorCode(e: NodeJS.ErrnoException): string {
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' || e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || e.code === 'ETIMEDOUT' || e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') return e.code;
  return e.code?.startsWith('ERR_SSL') || /ssl|tls|alert/i.test(e.message) ? 'EHANDSHAKE' : (e.code ?? 'EHANDSHAKE');
}

function describeSocketError(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      // OpenSSL messages carry a numeric prefix and source location; the reason after the last colon is what matters.
      return `TLS handshake failed: ${e.message.split(':').filter(Boolean).pop()?.trim() ?? e.message}`;
  }
}
