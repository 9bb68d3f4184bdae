// The `certops` command: argument parsing and exit codes here, the work in the engine modules.
import { VERSION } from '../version';

const HELP = `certops ${VERSION}: inspect, lint, verify and probe TLS certificates

Usage: certops <command> [options]

Commands:
  inspect FILE...      every PEM or DER block of every file, decoded
  lint FILE...         the language server's diagnostics for each file
  verify LEAF          validate a certificate path (RFC 5280)
  match CERT KEY       does the private key match the certificate
  probe HOST:PORT      connect with TLS and show the served chain
  expiry FILE...       fail when a certificate expires soon

Options:
  --json               print one JSON document instead of text
  -h, --help           show this help
  -v, --version        show the version

Exit codes: 0 success, 1 the check failed, 2 bad usage or unreadable input.
`;

/** Runs the CLI and returns its exit code; output goes through the given writers. */
export async function main(argv: string[], out = (s: string) => process.stdout.write(s), err = (s: string) => process.stderr.write(s)): Promise<number> {
  const [command] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    out(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '-v' || command === '--version') {
    out(`${VERSION}\n`);
    return 0;
  }
  err(`certops: unknown command "${command}" (see certops --help)\n`);
  return 2;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`certops: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
