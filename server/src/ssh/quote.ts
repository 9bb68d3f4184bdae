/**
 * POSIX sh quoting of one argument: the whole string in single quotes, each
 * single quote written as '\''. Inside single quotes nothing is special
 * (no $, `, \, newline or glob), so the remote shell passes it literally.
 */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('an argument cannot contain a NUL byte');
  // Plain words stay readable in logs; anything else is quoted.
  if (/^[A-Za-z0-9_/.,:=+@%^-]+$/.test(arg) && !arg.startsWith('-') && !arg.startsWith('=')) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** An argv as one sh command line, every argument quoted. */
export function shellJoin(argv: string[]): string {
  return argv.map(shellQuote).join(' ');
}
