// `certops hosts`: the inventory's hosts and endpoints; `certops hosts import`: entries from ~/.ssh/config or an Ansible inventory.
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { HostEntry, INVENTORY_FILE, InventoryError, loadInventory, parseInventory, ReloadSpec } from '../inventory';
import { hostsFromAnsibleIni, hostsFromAnsibleYaml, hostsFromSshConfig, mergeHosts } from '../inventory/import';
import { loadSshConfigText, resolveSsh } from '../ssh';
import { CliIo, EXIT, painter, parseCommand, printJson, UsageError } from './io';
import type { Command } from './main';
import { escapeTerminal, openInventory, readLocalText } from './remote';

const HELP = `Usage: certops hosts [--inventory FILE] [--ssh-config FILE] [--json]
       certops hosts import [--ssh-config FILE] [--ansible FILE] [--out FILE]

Lists the inventory's hosts (how each is reached, after ~/.ssh/config) and
their endpoints (probe target, files, reload). Nothing is contacted.

"hosts import" adds a host for every concrete Host alias of an ssh_config
file and/or every host of an Ansible inventory (INI or YAML, with
ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file and
ansible_become), without endpoints. Hosts already in the output file are kept
as they are. Without --ssh-config or --ansible, ~/.ssh/config is read.

Options:
  --inventory FILE      the inventory (default: certops.json here or in the nearest parent directory)
  --ssh-config FILE     ssh_config to read (default ~/.ssh/config)
  --ansible FILE        an Ansible inventory (.yml/.yaml: YAML, otherwise INI)
  --out FILE            the inventory to create or extend (default ./certops.json)
  --json                one JSON document
`;

/** The `hosts` command. */
export const hostsCommand: Command = {
  help: HELP,
  async run(args, io) {
    if (args[0] === 'import') return importHosts(args.slice(1), io);
    const { values, positionals } = parseCommand('hosts', args, { inventory: { type: 'string' }, 'ssh-config': { type: 'string' } });
    if (positionals.length) throw new UsageError(`unexpected argument "${escapeTerminal(positionals[0])}" (see certops hosts --help)`);
    const inv = openInventory(values.inventory);
    const configText = loadSshConfigText(values['ssh-config'] ?? io.env.CERTOPS_SSH_CONFIG);
    const hosts = inv.hosts.map((h) => {
      let ssh: ReturnType<typeof resolveSsh> | undefined;
      let sshError: string | undefined;
      try {
        ssh = resolveSsh(h.ssh, h.name, { configText });
      } catch (e) {
        sshError = (e as Error).message;
      }
      return { host: h, ssh, sshError };
    });
    if (values.json) {
      printJson(io, {
        inventory: inv.file,
        hosts: hosts.map(({ host, ssh, sshError }) => ({
          name: host.name,
          ssh: host.ssh,
          resolved: ssh ? { hostname: ssh.hostname, port: ssh.port, user: ssh.user, proxyJump: ssh.proxyJump, sudo: typeof host.ssh === 'object' && host.ssh.sudo === true } : null,
          error: sshError ?? null,
          endpoints: host.endpoints,
        })),
      });
      return EXIT.ok;
    }
    const paint = painter(io.color);
    const lines: string[] = [`${escapeTerminal(inv.file)}: ${inv.hosts.length} host${inv.hosts.length === 1 ? '' : 's'}`];
    for (const { host, ssh, sshError } of hosts) {
      const how = ssh
        ? `${ssh.user}@${ssh.hostname}:${ssh.port}${ssh.proxyJump.length ? ` via ${ssh.proxyJump.join(' → ')}` : ''}${typeof host.ssh === 'object' && host.ssh.sudo ? ' (sudo)' : ''}${typeof host.ssh === 'string' ? ` (ssh config "${host.ssh}")` : ''}`
        : `cannot resolve: ${sshError}`;
      lines.push(`${paint('bold', escapeTerminal(host.name))}  ${escapeTerminal(how)}`);
      if (host.endpoints.length === 0) lines.push('  (no endpoints)');
      for (const ep of host.endpoints) {
        const p = ep.probe;
        const probe = `${p.host}:${p.port}${p.servername ? ` SNI ${p.servername}` : ''}${p.via === 'ssh' ? ' via ssh' : ''}${p.starttls ? ` starttls ${p.starttls}` : ''}`;
        lines.push(`  ${escapeTerminal(ep.name)}  ${escapeTerminal(probe)}`);
        lines.push(`    cert ${escapeTerminal(ep.files.cert)}${ep.files.key ? `  key ${escapeTerminal(ep.files.key)}` : ''}${ep.files.ca ? `  ca ${escapeTerminal(ep.files.ca)}` : ''}`);
        lines.push(`    reload ${escapeTerminal(describeReload(ep.reload))}`);
      }
    }
    io.out(`${lines.join('\n')}\n`);
    return EXIT.ok;
  },
};

/** One line for a reload spec. */
export function describeReload(r: ReloadSpec): string {
  switch (r.kind) {
    case 'signal':
      return `signal ${r.signal ?? 'HUP'} ${r.pidFile ? `to the pid in ${r.pidFile}` : r.process ? `to process "${r.process}"` : ''}`.trim();
    case 'command':
    case 'restart':
      return `${r.kind}: ${r.command}`;
    case 'watch':
      return `the server watches its files${r.intervalSeconds ? ` (every ${r.intervalSeconds} s)` : ''}`;
    case 'none':
      return 'none';
  }
}

async function importHosts(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand('hosts import', args, { 'ssh-config': { type: 'string' }, ansible: { type: 'string' }, out: { type: 'string' } });
  if (positionals.length) throw new UsageError(`unexpected argument "${escapeTerminal(positionals[0])}" (see certops hosts --help)`);
  const out = resolve(values.out ?? INVENTORY_FILE);
  const imported: HostEntry[] = [];
  const sshConfig = values['ssh-config'] ?? (values.ansible === undefined ? join(homedir(), '.ssh', 'config') : undefined);
  if (sshConfig !== undefined) imported.push(...hostsFromSshConfig(readLocalText(sshConfig)));
  if (values.ansible !== undefined) {
    const text = readLocalText(values.ansible);
    try {
      imported.push(...(/\.ya?ml$/i.test(values.ansible) ? hostsFromAnsibleYaml(text) : hostsFromAnsibleIni(text)));
    } catch (e) {
      throw new UsageError(`${values.ansible}: ${escapeTerminal((e as Error).message.split('\n')[0])}`);
    }
  }
  let existing: HostEntry[] = [];
  if (existsSync(out)) {
    try {
      existing = loadInventory(out).hosts;
    } catch (e) {
      if (e instanceof InventoryError) throw new UsageError(`${escapeTerminal(e.message)} (fix it before importing into it)`);
      throw e;
    }
  }
  const merged = mergeHosts(existing, imported);
  const text = `${JSON.stringify({ hosts: merged.hosts }, null, 2)}\n`;
  // What is written must load: validate before replacing anything.
  try {
    parseInventory(text, out);
  } catch (e) {
    throw new UsageError(`the imported entries are not valid: ${escapeTerminal((e as Error).message)}`);
  }
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, out);
  if (values.json) printJson(io, { file: out, added: merged.added, skipped: merged.skipped });
  else {
    io.out(`${escapeTerminal(out)}: added ${merged.added.length} host${merged.added.length === 1 ? '' : 's'}${merged.added.length ? ` (${merged.added.map(escapeTerminal).join(', ')})` : ''}`);
    io.out(merged.skipped.length ? `; ${merged.skipped.length} already present (${merged.skipped.map(escapeTerminal).join(', ')})\n` : '\n');
    if (merged.added.length) io.out('Add endpoints (probe, files, reload) to the new hosts; see docs/cli.md.\n');
  }
  return EXIT.ok;
}
