// `certops probe HOST:PORT`: what the server serves, decoded, checked, and compared with what was expected.
import { keyLabel } from '../analysis/spki';
import { parseTarget, ProbeError, probeTls, ProbeResult, STARTTLS_PROTOCOLS, StartTlsProtocol } from '../probe';
import { SshError, SshPool } from '../ssh';
import { relativeDays } from '../services/context';
import { decodeCertificate, loadLeafFirst, toPem } from './blocks';
import { CliIo, EXIT, painter, parseCommand, parseTime, printJson, untrusted as u, UsageError } from './io';
import type { Command } from './main';
import { loadPrivateKey, passphraseFrom } from './match';
import { cliPool, escapeTerminal, openInventory, REMOTE_HELP, REMOTE_OPTIONS } from './remote';
import { loadRoots } from './trust';

const HELP = `Usage: certops probe HOST:PORT [options]

Connects with TLS (like "openssl s_client") and shows the protocol, cipher,
ALPN, every certificate the server sent (decoded), whether that chain is
trusted and whether the leaf covers the host name. The chain is shown even
when it is not trusted. HOST may be a name, an IPv4 address or [IPv6].

Options:
  --servername NAME     SNI to send and name to check (default: HOST; no SNI for an IP)
  --ca FILE             trust anchors (repeatable); default the trust store ($SSL_CERT_FILE /
                        $SSL_CERT_DIR, else the system bundle, else Node's roots)
  --cert FILE --key FILE  client certificate and key for mutual TLS
  --passphrase-env VAR  the client key's passphrase is in $VAR
  --expect-sha256 HEX   the SHA-256 the served leaf must have (colons allowed)
  --expect-cert FILE    the served leaf must be the first certificate of FILE
                        (of a PKCS#7: its leaf)
  --alpn LIST           comma-separated ALPN protocols to offer (default h2,http/1.1; "" for none)
  --at TIME             validate as of TIME (ISO 8601 or @unix-seconds)
  --timeout S           give up after S seconds (default 10)
  --no-verify           report trust and host name but do not fail on them
  --starttls PROTO      negotiate TLS inside smtp, imap or postgres first (as openssl s_client -starttls)
  --via HOST            dial from the inventory host HOST's side, through its SSH connection
                        (HOST:PORT is then as seen from that host, e.g. 127.0.0.1:6380)
${REMOTE_HELP}
  --json                one JSON document

Exit 0 when the chain is trusted, the name matches and any expectation holds;
1 when one of those fails (with --no-verify only the expectation counts);
2 on bad usage, unreadable files, or when no TLS handshake could be completed.
Node reports the served chain in issuance order starting at the leaf; served
certificates that are not part of that path are not shown.
`;

/** The `probe` command. */
export const probeCommand: Command = {
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseCommand('probe', args, {
      servername: { type: 'string' },
      ca: { type: 'string', multiple: true },
      cert: { type: 'string' },
      key: { type: 'string' },
      'passphrase-env': { type: 'string' },
      'expect-sha256': { type: 'string' },
      'expect-cert': { type: 'string' },
      alpn: { type: 'string' },
      at: { type: 'string' },
      timeout: { type: 'string' },
      'no-verify': { type: 'boolean' },
      starttls: { type: 'string' },
      via: { type: 'string' },
      ...REMOTE_OPTIONS,
    });
    if (positionals.length !== 1) throw new UsageError('expected one HOST:PORT (see certops probe --help)');
    let target: { host: string; port: number };
    try {
      target = parseTarget(positionals[0]);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('--cert and --key go together');
    const timeout = values.timeout === undefined ? 10 : Number(values.timeout);
    if (!(timeout > 0)) throw new UsageError(`--timeout: expected a positive number of seconds, got "${values.timeout}"`);
    const alpn = values.alpn === undefined ? undefined : values.alpn.split(',').filter(Boolean);
    // TLS carries each protocol name in a one-byte length: a longer one is the user's mistake, not a crash.
    const badAlpn = alpn?.find((p) => Buffer.byteLength(p) > 255);
    if (badAlpn !== undefined) throw new UsageError(`--alpn: a protocol name is at most 255 bytes, got one of ${Buffer.byteLength(badAlpn)}`);
    const expected = expectedSha256(values['expect-sha256'], values['expect-cert']);
    const roots = loadRoots(values.ca ?? [], io);
    const client = values.cert !== undefined && values.key !== undefined ? loadClient(values.cert, values.key, io, values['passphrase-env']) : {};
    if (values.starttls !== undefined && !STARTTLS_PROTOCOLS.includes(values.starttls as StartTlsProtocol)) {
      throw new UsageError(`--starttls: expected one of ${STARTTLS_PROTOCOLS.join(', ')}, got "${escapeTerminal(values.starttls)}"`);
    }
    let pool: SshPool | undefined;
    let result: ProbeResult;
    try {
      let socket;
      if (values.via !== undefined) {
        const inv = openInventory(values.inventory);
        const host = inv.hosts.find((h) => h.name === values.via);
        if (!host) throw new UsageError(`--via: no host "${escapeTerminal(values.via)}" in ${escapeTerminal(inv.file)}`);
        pool = cliPool(io, values);
        const remote = await pool.get(host);
        // The host dials for us; bound that by --timeout too.
        socket = await Promise.race([
          remote.forwardOut(target.host, target.port),
          new Promise<never>((_, reject) => setTimeout(() => reject(new ProbeError(`${target.host}:${target.port} via ${host.name}: no connection within ${timeout} s`, 'ETIMEDOUT')), timeout * 1000).unref()),
        ]);
      }
      result = await probeTls({
        ...target,
        ...(values.servername !== undefined ? { servername: values.servername } : {}),
        ...client,
        alpn,
        timeoutMs: timeout * 1000,
        roots: roots.certificates,
        at: values.at === undefined ? io.now() : parseTime(values.at),
        starttls: values.starttls as StartTlsProtocol | undefined,
        socket,
      });
    } catch (e) {
      if (e instanceof ProbeError || e instanceof SshError) throw new UsageError(escapeTerminal(e.message));
      throw e;
    } finally {
      pool?.closeAll();
    }
    const trusted = result.verification?.valid ?? false;
    const expectation = expected ? { expected: expected.sha256, source: expected.source, matches: expected.sha256 === result.chain[0].sha256 } : null;
    const ok = (expectation?.matches ?? true) && (values['no-verify'] || (trusted && result.hostname.matches));
    if (values.json) printJson(io, toJson(result, roots.source, expectation, ok, io.now()));
    else printText(io, result, roots.source, expectation, ok);
    return ok ? EXIT.ok : EXIT.failed;
  },
};

function expectedSha256(hex: string | undefined, certFile: string | undefined): { sha256: string; source: string } | undefined {
  if (hex !== undefined && certFile !== undefined) throw new UsageError('use one of --expect-sha256 and --expect-cert');
  if (certFile !== undefined) return { sha256: loadLeafFirst(certFile)[0].certificate.sha256, source: certFile };
  if (hex === undefined) return undefined;
  const normal = hex.replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(normal)) throw new UsageError(`--expect-sha256: "${hex}" is not 64 hexadecimal digits`);
  return { sha256: normal, source: '--expect-sha256' };
}

function loadClient(certFile: string, keyFile: string, io: CliIo, passphraseEnv: string | undefined): { clientCert: string; clientKey: string } {
  // Re-encoded as PEM, leaf first: TLS reads only PEM, so a DER or PKCS#7 file works as well.
  const clientCert = loadLeafFirst(certFile)
    .map((c) => toPem(c.der))
    .join('');
  const key = loadPrivateKey(keyFile, passphraseFrom(io, passphraseEnv), 'pass --passphrase-env VAR with the passphrase in $VAR');
  // Decrypted once here, so the TLS layer never needs the passphrase; the key stays in memory only.
  return { clientCert, clientKey: key.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

type Expectation = { expected: string; source: string; matches: boolean } | null;

function toJson(r: ProbeResult, rootsSource: string, expectation: Expectation, ok: boolean, now: Date) {
  return {
    ok,
    host: r.host,
    port: r.port,
    address: r.address,
    servername: r.servername,
    protocol: r.protocol,
    cipher: r.cipher.standardName,
    alpn: r.alpn,
    handshakeMs: r.handshakeMs,
    chain: r.chain.map((c) => {
      try {
        return decodeCertificate(c.der);
      } catch (e) {
        return { sha256: c.sha256, problems: [(e as Error).message] };
      }
    }),
    verification: r.verification ? { ...r.verification, roots: rootsSource } : null,
    hostname: r.hostname,
    expectation,
    checkedAt: now.toISOString(),
  };
}

function printText(io: CliIo, r: ProbeResult, rootsSource: string, expectation: Expectation, ok: boolean): void {
  const paint = painter(io.color);
  const now = io.now();
  const addr = r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`;
  const lines = [
    `${paint('bold', u(addr))}${r.servername ? ` (SNI ${u(r.servername)})` : ' (no SNI)'} via ${u(r.address)}, handshake ${r.handshakeMs} ms`,
    `  protocol  ${u(r.protocol)}, ${u(r.cipher.standardName)}`,
    `  ALPN      ${r.alpn ? u(r.alpn) : 'none'}`,
    `  chain     ${r.chain.length} certificate${r.chain.length === 1 ? '' : 's'} served`,
  ];
  r.chain.forEach((c, i) => {
    try {
      const info = decodeCertificate(c.der);
      const notAfter = info.notAfter;
      const expires = !notAfter
        ? paint('red', 'no readable expiry date')
        : `${notAfter.toISOString()} (${notAfter.getTime() <= now.getTime() ? paint('red', `expired ${relativeDays(notAfter, now)}`) : relativeDays(notAfter, now)})`;
      lines.push(
        `   ${i} ${paint('bold', u(info.subject) || '(empty subject)')}`,
        `     issuer   ${u(info.issuer)}`,
        `     expires  ${expires}`,
        ...(info.sans.length ? [`     SANs     ${info.sans.map((s) => `${s.type.toUpperCase()}:${u(s.value)}`).join(', ')}`] : []),
        `     key      ${keyLabel(info.publicKey)}`,
        `     sha256   ${c.sha256}`,
      );
    } catch (e) {
      lines.push(`   ${i} ${paint('red', 'undecodable certificate')}: ${u((e as Error).message)}`, `     sha256   ${c.sha256}`);
    }
  });
  const v = r.verification;
  if (v) {
    lines.push(v.valid ? `  trust     ${paint('green', 'trusted')} by ${u(rootsSource)}` : `  trust     ${paint('red', 'NOT TRUSTED')} by ${u(rootsSource)}`);
    for (const e of v.errors) lines.push(`            ${e.code}: ${u(e.message)}`);
  }
  lines.push(`  hostname  ${u(r.hostname.name)} ${r.hostname.matches ? paint('green', 'matches the leaf') : paint('red', 'does NOT match the leaf')}`);
  if (expectation) {
    lines.push(
      expectation.matches
        ? `  expected  ${paint('green', 'served leaf is the expected one')} (${u(expectation.source)})`
        : `  expected  ${paint('red', 'served leaf is NOT the expected one')}: expected ${expectation.expected} (${u(expectation.source)})`,
    );
  }
  lines.push(ok ? paint('green', 'ok') : paint('red', 'FAILED'));
  io.out(`${lines.join('\n')}\n`);
}
