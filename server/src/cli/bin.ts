// The `certops` executable: runs the CLI and turns its result into the exit code.
// Kept apart from main.ts so that tests import main() without starting the CLI.
import { main } from './main';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`certops: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
