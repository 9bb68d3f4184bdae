/**
 * A TLS handshake that reports what a server actually serves, whether or not it is trusted:
 * the CLI's `probe` and the extension's rotation both use it to tell which certificate is live.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
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
}

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
export function probeTls(opts: ProbeOptions): Promise<ProbeResult> {
  const servername = opts.servername === undefined ? (isIP(opts.host) ? null : opts.host) : opts.servername;
  const checkName = opts.checkName ?? servername ?? opts.host;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let settled = false;
    const socket = tls.connect({
      host: opts.host,
      port: opts.port,
      ...(servername !== null ? { servername } : {}),
      // Trust is checked by the caller on the returned chain. An empty CA list also stops Node
      // from appending trust-store certificates to the peer chain, so `chain` is only what was served.
      rejectUnauthorized: false,
      ca: [],
      ALPNProtocols: opts.alpn ?? ['h2', 'http/1.1'],
      cert: opts.clientCert,
      key: opts.clientKey,
      passphrase: opts.clientKeyPassphrase,
    });
    const finish = (error: ProbeError | null, result?: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) socket.destroy();
      else {
        // A graceful close flushes our last handshake messages (the client certificate and Finished in
        // TLS 1.3), so a mutual-TLS server completes the handshake instead of logging a hang-up.
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      }
      if (error) reject(error);
      else resolve(result as ProbeResult);
    };
    const timer = setTimeout(() => finish(new ProbeError(`${target(opts)}: no TLS handshake within ${timeoutMs / 1000} s`, 'ETIMEDOUT')), timeoutMs);
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

function describeConnection(socket: tls.TLSSocket, opts: ProbeOptions, servername: string | null, checkName: string, handshakeMs: number): ProbeResult {
  const chain = servedChain(socket);
  if (chain.length === 0) throw new ProbeError(`${target(opts)}: the server sent no certificate`, 'ENOCERT');
  const cipher = socket.getCipher();
  const alpn = socket.alpnProtocol;
  return {
    host: opts.host,
    port: opts.port,
    address: socket.remoteAddress ?? opts.host,
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
