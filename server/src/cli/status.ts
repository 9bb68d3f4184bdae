// `certops status [HOST[/ENDPOINT]...]`: the hosts tree's statuses in a terminal: on disk vs served, key, chain, expiry.
import { EndpointState, EndpointStatus, inventoryStatus } from '../hosts';
import { SelectorError } from '../inventory';
import { CliIo, EXIT, painter, parseCommand, printJson, UsageError } from './io';
import type { Command } from './main';
import { cliPool, escapeTerminal, openInventory, REMOTE_HELP, REMOTE_OPTIONS } from './remote';

const HELP = `Usage: certops status [HOST[/ENDPOINT]...] [options]

For each endpoint of the inventory (or the ones named), reads the certificate
and key files over SSH, probes what the server serves (directly or from the
host's side) and prints one status: ok, expiring, expired, served-differs
(renewed but not reloaded), key-exposed (key readable by group or others),
key-mismatch, chain-incomplete, unreachable (with the reason), error.
One SSH connection per host, shared by its endpoints.

Options:
${REMOTE_HELP}
  --concurrency N       hosts checked at once (default 16)
  --json                one JSON document: {ok, inventory, endpoints: [...]}

Exit 0 when every endpoint is ok, 1 when one is not, 2 when the inventory is
invalid (one line: file, JSON path, problem) or on bad usage.
`;

const LABEL: Record<EndpointState, string> = {
  ok: 'OK',
  expiring: 'EXPIRING',
  expired: 'EXPIRED',
  'served-differs': 'SERVED ≠ DISK',
  'key-exposed': 'KEY EXPOSED',
  'key-mismatch': 'KEY MISMATCH',
  'chain-incomplete': 'CHAIN INCOMPLETE',
  unreachable: 'UNREACHABLE',
  error: 'ERROR',
};

/** The `status` command. */
export const statusCommand: Command = {
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseCommand('status', args, { ...REMOTE_OPTIONS, concurrency: { type: 'string' } });
    const concurrency = values.concurrency === undefined ? 16 : Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency: expected a whole number >= 1, got "${values.concurrency}"`);
    const inv = openInventory(values.inventory);
    const pool = cliPool(io, values);
    let statuses: EndpointStatus[];
    try {
      statuses = await inventoryStatus(inv, pool, positionals, { concurrency, now: io.now() });
    } catch (e) {
      if (e instanceof SelectorError) throw new UsageError(escapeTerminal(e.message));
      throw e;
    } finally {
      pool.closeAll();
    }
    const ok = statuses.every((s) => s.states.length === 1 && s.states[0] === 'ok');
    if (values.json) printJson(io, { ok, inventory: inv.file, endpoints: statuses });
    else printStatuses(io, statuses, !values['accept-new']);
    return ok ? EXIT.ok : EXIT.failed;
  },
};

function printStatuses(io: CliIo, statuses: EndpointStatus[], hintAcceptNew: boolean): void {
  const paint = painter(io.color);
  const lines: string[] = [];
  const width = Math.min(40, Math.max(0, ...statuses.map((s) => `${s.host}/${s.endpoint}`.length)));
  for (const s of statuses) {
    const name = escapeTerminal(`${s.host}/${s.endpoint}`).padEnd(width);
    const good = s.states[0] === 'ok';
    const label = s.states.map((st) => LABEL[st]).join(', ');
    const cert = s.files.cert.certificate ?? s.served;
    const summary = cert ? `  ${escapeTerminal(cert.subject || '(empty subject)')}, ${cert.daysLeft === undefined ? 'expiry date invalid' : cert.daysLeft < 0 ? `expired ${-cert.daysLeft} days ago` : `${cert.daysLeft} days left`}` : '';
    lines.push(`${paint('bold', name)}  ${paint(good ? 'green' : s.states[0] === 'expiring' || s.states[0] === 'chain-incomplete' ? 'yellow' : 'red', label)}${summary}`);
    if (!good) for (const m of s.messages) lines.push(`    ${escapeTerminal(m)}`);
    if (hintAcceptNew && /unknown host key/.test(s.messages.join(' '))) lines.push('    (check the fingerprint, then run again with --accept-new to trust and save it)');
  }
  const bad = statuses.filter((s) => s.states[0] !== 'ok').length;
  lines.push(`${statuses.length} endpoint${statuses.length === 1 ? '' : 's'}: ${statuses.length - bad} ok, ${bad} not ok`);
  io.out(`${lines.join('\n')}\n`);
}
