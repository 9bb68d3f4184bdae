// The `certops` executable: runs the CLI and turns its result into the exit code.
// Kept apart from main.ts so that tests import main() without starting the CLI.
import { EXIT } from './io';
import { main, reportError } from './main';

// A reader that stops early (`certops inspect x.pem | head -1`) closes the pipe:
// it has what it wanted, so end quietly with 0 rather than with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(EXIT.ok);
  process.stderr.write(`certops: cannot write the output: ${e.code ?? e.message}\n`);
  process.exit(EXIT.usage);
});
// Whatever escapes main() (a callback of a socket, say) is still one line and exit 3, not a trace.
process.on('uncaughtException', (e) => process.exit(reportError('certops', e, { err: (s) => process.stderr.write(s), env: process.env })));
// Nowhere left to report a closed stderr; the exit code still tells.
process.stderr.on('error', () => undefined);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = reportError('certops', e, { err: (s) => process.stderr.write(s), env: process.env });
  },
);
