// The `certops` command: dispatch, exit codes and the one-line error contract; each command lives in its own file.
import { VERSION } from '../version';
import { caBundleCommand, csrCommand } from './csr';
import { expiryCommand } from './expiry';
import { hostsCommand } from './hosts';
import { inspectCommand } from './inspect';
import { lintCommand } from './lint';
import { CliIo, EXIT, untrusted, UsageError } from './io';
import { matchCommand } from './match';
import { probeCommand } from './probe';
import { rollbackCommand, rotateCommand } from './rotate';
import { statusCommand } from './status';
import { verifyCommand } from './verify';

const HELP = `certops ${VERSION}: inspect, lint, verify and probe TLS certificates

Usage: certops <command> [options]

Commands:
  inspect FILE...      every PEM or DER block of every file, decoded
  lint FILE...         the language server's diagnostics for each file
                       (PEM and DER files; PEM and base64 PEM in YAML, JSON,
                       .env files and Kubernetes Secrets, as in the editor)
  verify LEAF          validate a certificate path (RFC 5280)
  match CERT KEY       does the private key match the certificate
  probe HOST:PORT      connect with TLS and show the served chain
  expiry FILE...       fail when a certificate expires soon
  hosts                the inventory's hosts and endpoints (certops.json); "hosts import" fills it
  status [HOST[/EP]]   on-disk vs served certificate of each endpoint, over SSH
  rotate HOST/EP...    replace an endpoint's certificate as one verified transaction
  rollback HOST/EP     restore the files a recorded rotation replaced
  csr --from CERT      a new key and a CSR with the certificate's subject and SANs
  ca-bundle NEW OLD    a combined trust bundle, new CA first

Run "certops <command> --help" for a command's options.

Options:
  --json               print one JSON document instead of text
  -h, --help           show this help
  -v, --version        show the version

Exit codes: 0 success, 1 the check failed, 2 bad usage or unreadable input,
3 an internal error of certops (please report it; CERTOPS_DEBUG=1 shows the
stack trace), or for rotate and rollback a rollback that could not be
verified. When stdout is closed early (certops ... | head) certops stops
quietly with exit 0.
Colour is used only on a terminal and never when NO_COLOR is set.
`;

/** A command: parses its own arguments, prints, and returns an exit code. */
export type Command = { help: string; run: (args: string[], io: CliIo) => Promise<number> };

const COMMANDS: Record<string, Command> = {
  inspect: inspectCommand,
  lint: lintCommand,
  verify: verifyCommand,
  match: matchCommand,
  probe: probeCommand,
  expiry: expiryCommand,
  hosts: hostsCommand,
  status: statusCommand,
  rotate: rotateCommand,
  rollback: rollbackCommand,
  csr: csrCommand,
  'ca-bundle': caBundleCommand,
};

/** Runs the CLI and returns its exit code; output goes through the given writers. */
export async function main(argv: string[], out?: (s: string) => void, err?: (s: string) => void, options: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = {
    out: out ?? ((s) => process.stdout.write(s)),
    err: err ?? ((s) => process.stderr.write(s)),
    env: options.env ?? process.env,
    color: false,
    now: options.now ?? (() => new Date()),
    readStdin: options.readStdin ?? readStdin,
  };
  // Colour only when writing to a real terminal, and never with NO_COLOR set (https://no-color.org).
  io.color = options.color ?? (out === undefined && process.stdout.isTTY === true && !io.env.NO_COLOR);

  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    const topic = command === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined;
    io.out(topic ? topic.help : HELP);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '-v' || command === '--version') {
    io.out(`${VERSION}\n`);
    return EXIT.ok;
  }
  const cmd = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!cmd) {
    io.err(`certops: unknown command "${command}" (see certops --help)\n`);
    return EXIT.usage;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    io.out(cmd.help);
    return EXIT.ok;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    return reportError(`certops ${command}`, e, io);
  }
}

/**
 * The one-line error contract: a usage error names the file and the problem
 * (exit 2); anything else is a defect in certops (exit 3), reported as such,
 * with the stack trace only when CERTOPS_DEBUG is set.
 */
export function reportError(prefix: string, e: unknown, io: Pick<CliIo, 'err' | 'env'>): number {
  const message = untrusted((e instanceof Error ? e.message : String(e)).split('\n')[0]);
  if (e instanceof UsageError) {
    io.err(`${prefix}: ${message}\n`);
    return EXIT.usage;
  }
  io.err(`${prefix}: internal error: ${message}; please report this as a certops bug${io.env.CERTOPS_DEBUG ? '' : ' (CERTOPS_DEBUG=1 shows the stack trace)'}\n`);
  if (io.env.CERTOPS_DEBUG && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
  return EXIT.internal;
}

function readStdin(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.once('end', () => resolve(Buffer.concat(chunks)));
    process.stdin.once('error', reject);
  });
}
