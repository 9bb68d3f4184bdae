// What the remote commands (hosts, status, probe --via) share: the inventory, the SSH pool, terminal prompts and escaping.
import { openSync, readSync, closeSync } from 'node:fs';
import { findInventory, Inventory, InventoryError, loadInventory } from '../inventory';
import { Prompts, SshPool } from '../ssh';
import { CliIo, untrusted, UsageError } from './io';

/** The options every remote command takes, for parseCommand. */
export const REMOTE_OPTIONS = {
  inventory: { type: 'string' },
  'ssh-config': { type: 'string' },
  'known-hosts': { type: 'string' },
  'accept-new': { type: 'boolean' },
} as const;

/** Text for the commands' help. */
export const REMOTE_HELP = `  --inventory FILE      the inventory (default: certops.json here or in the nearest parent directory)
  --ssh-config FILE     ssh_config to use instead of ~/.ssh/config
  --known-hosts FILE    known_hosts to check and save host keys in, instead of UserKnownHostsFile
  --accept-new          accept and save the key of a host not yet in known_hosts (a changed key is always refused)`;

/** The CLI's one terminal escaping, under the name the remote commands use. */
export const escapeTerminal = untrusted;

/** Loads the inventory named by --inventory or found upward from the working directory; a bad one is a one-line usage error. */
export function openInventory(explicit: string | undefined, cwd = process.cwd()): Inventory {
  const file = findInventory(cwd, explicit);
  if (!file) throw new UsageError('no certops.json in this directory or any parent (pass --inventory FILE, or create one with "certops hosts import")');
  try {
    return loadInventory(file);
  } catch (e) {
    if (e instanceof InventoryError) throw new UsageError(escapeTerminal(e.message));
    throw e;
  }
}

/** The CLI's answers to the engine's questions: a no-echo terminal prompt for secrets; unknown host keys only with --accept-new. */
export function cliPrompts(io: CliIo): Prompts {
  let queue: Promise<unknown> = Promise.resolve();
  // Hosts connect in parallel; their questions are asked one at a time.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = queue.then(fn, fn);
    queue = p.catch(() => undefined);
    return p;
  };
  return {
    // The pool accepts new keys itself when --accept-new is given; anything else is refused.
    unknownHostKey: async () => 'cancel',
    passphrase: ({ identityFile }) => serial(() => readSecret(io, `Enter passphrase for ${escapeTerminal(identityFile)}: `)),
    password: ({ user, host }) => serial(() => readSecret(io, `${escapeTerminal(user)}@${escapeTerminal(host)}'s password: `)),
  };
}

/** Reads a line from the terminal without echo; undefined when stdin is not a terminal (the CLI never blocks a script). */
function readSecret(io: CliIo, prompt: string): Promise<string | undefined> {
  if (!process.stdin.isTTY) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const stdin = process.stdin;
    // Echo off before the prompt shows: a passphrase typed the moment it appears must not reach the screen.
    stdin.setRawMode(true);
    io.err(prompt);
    let value = '';
    const done = (v: string | undefined) => {
      stdin.setRawMode(false);
      stdin.removeListener('data', onData);
      stdin.pause();
      io.err('\n');
      resolve(v);
    };
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(value);
        if (ch === '\u0003' || ch === '\u0004') return done(undefined);
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** The pool for a CLI run, configured from the remote options and the environment. */
export function cliPool(io: CliIo, values: { 'ssh-config'?: string; 'known-hosts'?: string; 'accept-new'?: boolean }): SshPool {
  return new SshPool({
    prompts: cliPrompts(io),
    sshConfigFile: values['ssh-config'] ?? io.env.CERTOPS_SSH_CONFIG,
    knownHostsFile: values['known-hosts'] ?? io.env.CERTOPS_KNOWN_HOSTS,
    acceptNew: values['accept-new'] === true,
    agentSocket: io.env.SSH_AUTH_SOCK,
  });
}

/** Reads a small local file for import; one-line errors. */
export function readLocalText(path: string, max = 4 * 1024 * 1024): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? (e as Error).message)}`);
  }
  try {
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (let r = 1; r > 0 && n <= max; n += r) r = readSync(fd, buf, n, max + 1 - n, null);
    if (n > max) throw new UsageError(`${path}: larger than ${max} bytes`);
    return buf.subarray(0, n).toString('utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
