/**
 * Inventory entries from where operators already keep host lists: the Host
 * aliases of ~/.ssh/config and Ansible inventories (INI or YAML). Imported
 * hosts have no endpoints yet; the operator adds them.
 */
import SSHConfig, { LineType, Section } from 'ssh-config';
import { parse as parseYaml } from 'yaml';
import type { HostEntry, SshTarget } from './index';

/** Bounds on imported lists, so a hostile file cannot make us expand forever. */
const MAX_HOSTS = 10_000;

/** One host per concrete `Host` alias (patterns with `*`, `?` or `!` are skipped); `ssh` names the alias. */
export function hostsFromSshConfig(text: string): HostEntry[] {
  const config = SSHConfig.parse(text);
  const out: HostEntry[] = [];
  const seen = new Set<string>();
  for (const line of config) {
    if (line.type !== LineType.DIRECTIVE || line.param.toLowerCase() !== 'host') continue;
    const values = typeof (line as Section).value === 'string' ? [(line as Section).value as string] : ((line as Section).value as { val: string }[]).map((v) => v.val);
    for (const alias of values.flatMap((v) => v.split(/\s+/)).filter(Boolean)) {
      if (/[*?!]/.test(alias) || seen.has(alias) || !isImportableName(alias)) continue;
      seen.add(alias);
      out.push({ name: alias, ssh: alias, endpoints: [] });
      if (out.length >= MAX_HOSTS) return out;
    }
  }
  return out;
}

function isImportableName(s: string): boolean {
  return /^[A-Za-z0-9_.@:-][A-Za-z0-9_.@: -]*$/.test(s) && s.length <= 128;
}

type Vars = Record<string, unknown>;

/** Turns Ansible connection variables into an SshTarget (ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file, ansible_become). */
function targetFromVars(name: string, vars: Vars): SshTarget {
  const str = (k: string) => (vars[k] === undefined || vars[k] === null ? undefined : String(vars[k]));
  const t: SshTarget = { host: str('ansible_host') ?? str('ansible_ssh_host') ?? name };
  const port = Number(str('ansible_port') ?? str('ansible_ssh_port'));
  if (Number.isInteger(port) && port >= 1 && port <= 65535) t.port = port;
  const user = str('ansible_user') ?? str('ansible_ssh_user');
  if (user) t.user = user;
  const key = str('ansible_ssh_private_key_file') ?? str('ansible_private_key_file');
  if (key) t.identityFile = key;
  const jump = /-J\s*(\S+)|ProxyJump=(\S+)/.exec(str('ansible_ssh_common_args') ?? '');
  if (jump) t.proxyJump = (jump[1] ?? jump[2]).replace(/^['"]|['"]$/g, '');
  const become = str('ansible_become');
  if (become && /^(true|yes|1)$/i.test(become)) t.sudo = true;
  return t;
}

/** Expands Ansible's host ranges: `web[01:03]` → web01, web02, web03; `db-[a:c]` → db-a, db-b, db-c. */
export function expandAnsibleRange(pattern: string): string[] {
  const m = /^(.*?)\[([0-9a-z]+):([0-9a-z]+)(?::(\d+))?\](.*)$/i.exec(pattern);
  if (!m) return [pattern];
  const [, pre, from, to, stepText, post] = m;
  const step = stepText ? Math.max(1, Number(stepText)) : 1;
  // The tail is expanded once, and the product is capped, so nested ranges cannot explode.
  const rests = expandAnsibleRange(post);
  const out: string[] = [];
  const push = (middle: string) => {
    for (const rest of rests) {
      if (out.length >= MAX_HOSTS) return false;
      out.push(`${pre}${middle}${rest}`);
    }
    return true;
  };
  if (/^\d+$/.test(from) && /^\d+$/.test(to)) {
    const width = from.length;
    for (let i = Number(from); i <= Number(to); i += step) if (!push(String(i).padStart(width, '0'))) break;
  } else if (from.length === 1 && to.length === 1) {
    for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c += step) if (!push(String.fromCharCode(c))) break;
  } else return [pattern];
  return out;
}

/** Parses `key=value` pairs, honouring single and double quotes. */
function parseKv(text: string): Vars {
  const vars: Vars = {};
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) vars[m[1]] = m[2].replace(/^"(.*)"$/s, '$1').replace(/^'(.*)'$/s, '$1');
  return vars;
}

/** Hosts of an Ansible INI inventory, with group variables (`[g:vars]`, `[all:vars]`) applied; the host's own win. */
export function hostsFromAnsibleIni(text: string): HostEntry[] {
  const hostVars = new Map<string, Vars>();
  const groupsOf = new Map<string, Set<string>>();
  const groupVars = new Map<string, Vars>();
  const children = new Map<string, string[]>();
  let section = 'ungrouped';
  let kind: 'hosts' | 'vars' | 'children' = 'hosts';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+|\s+$/g, '');
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[([^\]:]+)(?::(vars|children))?\]$/.exec(line);
    if (sec) {
      section = sec[1];
      kind = (sec[2] as 'vars' | 'children' | undefined) ?? 'hosts';
      continue;
    }
    if (kind === 'vars') {
      const kv = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
      if (kv) groupVars.set(section, { ...groupVars.get(section), [kv[1]]: kv[2].replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1') });
      continue;
    }
    if (kind === 'children') {
      children.set(section, [...(children.get(section) ?? []), line.split(/\s+/)[0]]);
      continue;
    }
    const [pattern, ...rest] = line.split(/\s+/);
    const vars = parseKv(rest.join(' '));
    for (const name of expandAnsibleRange(pattern)) {
      hostVars.set(name, { ...hostVars.get(name), ...vars });
      if (!groupsOf.has(name)) groupsOf.set(name, new Set());
      groupsOf.get(name)?.add(section);
      if (hostVars.size >= MAX_HOSTS) break;
    }
  }
  // A group's vars reach the hosts of its child groups too.
  const ancestors = (g: string, seen = new Set<string>()): string[] => {
    const parents = [...children.entries()].filter(([, kids]) => kids.includes(g)).map(([p]) => p).filter((p) => !seen.has(p));
    parents.forEach((p) => seen.add(p));
    return [...parents, ...parents.flatMap((p) => ancestors(p, seen))];
  };
  return [...hostVars.entries()].filter(([name]) => isImportableName(name)).map(([name, own]) => {
    const groups = [...(groupsOf.get(name) ?? [])];
    const merged: Vars = { ...groupVars.get('all') };
    for (const g of groups) for (const a of ancestors(g).reverse()) Object.assign(merged, groupVars.get(a));
    for (const g of groups) Object.assign(merged, groupVars.get(g));
    Object.assign(merged, own);
    return { name, ssh: targetFromVars(name, merged), endpoints: [] };
  });
}

/** Hosts of an Ansible YAML inventory (`all: {hosts, vars, children}`), group vars applied from the outside in. */
export function hostsFromAnsibleYaml(text: string): HostEntry[] {
  const doc = parseYaml(text, { maxAliasCount: 100 }) as unknown;
  const out = new Map<string, Vars>();
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const walk = (group: unknown, inherited: Vars, depth: number) => {
    if (!isObj(group) || depth > 32) return;
    const vars = { ...inherited, ...(isObj(group.vars) ? group.vars : {}) };
    if (isObj(group.hosts)) {
      for (const [pattern, hv] of Object.entries(group.hosts)) {
        for (const name of expandAnsibleRange(pattern)) {
          if (out.size >= MAX_HOSTS && !out.has(name)) return;
          out.set(name, { ...vars, ...out.get(name), ...(isObj(hv) ? hv : {}) });
        }
      }
    }
    if (isObj(group.children)) for (const child of Object.values(group.children)) walk(child, vars, depth + 1);
  };
  if (isObj(doc)) for (const top of Object.values(doc)) walk(top, {}, 0);
  return [...out.entries()].filter(([name]) => isImportableName(name)).map(([name, vars]) => ({ name, ssh: targetFromVars(name, vars), endpoints: [] }));
}

/** Adds the imported hosts whose names are new; existing entries are kept untouched. */
export function mergeHosts(existing: HostEntry[], imported: HostEntry[]): { hosts: HostEntry[]; added: string[]; skipped: string[] } {
  const names = new Set(existing.map((h) => h.name));
  const added: string[] = [];
  const skipped: string[] = [];
  const hosts = [...existing];
  for (const h of imported) {
    if (names.has(h.name)) skipped.push(h.name);
    else {
      names.add(h.name);
      added.push(h.name);
      hosts.push(h);
    }
  }
  return { hosts, added, skipped };
}
