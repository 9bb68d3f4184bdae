/**
 * The hosts tree as plain data: host → endpoint → what is on disk, what is
 * served, the files with mode and owner, and the status sentences, built from
 * the inventory and the engine's EndpointStatus values. No `vscode` here, so
 * the shape is unit-tested with node:test; tree.ts turns these into TreeItems.
 */
import { escapeTerminal } from '../../../server/src/cli/remote';
import { STATE_ORDER } from '../../../server/src/hosts';
import type { EndpointEntry, EndpointState, EndpointStatus, FileFacts, HostEntry, Inventory } from './engine';

/** What the tree is drawn from. */
export interface TreeModel {
  inventory?: Inventory;
  /** By statusKey(host, endpoint). */
  statuses: ReadonlyMap<string, EndpointStatus>;
  /** statusKeys being checked right now. */
  busy: ReadonlySet<string>;
  /** statusKeys with a rotation lock on the host (an interrupted or running rotation), and what it says. */
  interrupted?: ReadonlyMap<string, string>;
  /** statusKeys being rotated right now, and the step under way. */
  rotating?: ReadonlyMap<string, string>;
}

/** One tree row, as data. */
export interface ItemSpec {
  /** Stable across refreshes, so expansion state survives them. */
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  /** Space-separated flags matched by `viewItem =~ /\bflag\b/` in package.json menus. */
  contextValue: string;
  icon: { id: string; color?: string };
  collapsible: 'none' | 'collapsed' | 'expanded';
  /** The inventory host and endpoint the row belongs to (commands act on them). */
  host: string;
  endpoint?: string;
  /** A file on the host that "open" shows read-only. */
  file?: string;
  /** SHA-256 of the certificate the row shows, for "copy fingerprint". */
  sha256?: string;
  children: ItemSpec[];
}

/** The key of an endpoint in TreeModel.statuses, also the CLI's `HOST/ENDPOINT` selector. */
export function statusKey(host: string, endpoint: string): string {
  return `${host}/${endpoint}`;
}

interface StateLook {
  label: string;
  icon: string;
  color: string;
}

const ERROR = 'list.errorForeground';
const WARNING = 'list.warningForeground';

/** How each engine state looks. */
export const STATE_LOOK: Record<EndpointState, StateLook> = {
  unreachable: { label: 'unreachable', icon: 'debug-disconnect', color: ERROR },
  error: { label: 'error', icon: 'error', color: ERROR },
  expired: { label: 'expired', icon: 'error', color: ERROR },
  'key-mismatch': { label: 'key does not match', icon: 'error', color: ERROR },
  'served-differs': { label: 'served ≠ on disk', icon: 'diff', color: WARNING },
  'key-exposed': { label: 'key readable by group or others', icon: 'unlock', color: WARNING },
  expiring: { label: 'expiring', icon: 'warning', color: WARNING },
  'chain-incomplete': { label: 'chain incomplete', icon: 'warning', color: WARNING },
  ok: { label: 'OK', icon: 'pass', color: 'testing.iconPassed' },
};


const MAX_TEXT = 200;

/**
 * Strings from certificates, hosts and the inventory are untrusted: controls and
 * bidirectional characters made visible as the CLI does, and the length bounded.
 */
export function display(s: string): string {
  const clean = escapeTerminal(s);
  return clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT - 1)}…` : clean;
}

/** A multi-line tooltip: each line made safe on its own, so the line breaks stay real. */
function lines(parts: string[]): string {
  return parts.map(display).join('\n');
}

/** `0600` style permission bits. */
export function modeText(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

function daysText(daysLeft: number | undefined): string {
  if (daysLeft === undefined) return 'expiry date invalid';
  if (daysLeft < 0) return `expired ${-daysLeft} day${daysLeft === -1 ? '' : 's'} ago`;
  return `${daysLeft} day${daysLeft === 1 ? '' : 's'} left`;
}

function sshText(h: HostEntry): string {
  if (typeof h.ssh === 'string') return `ssh alias ${h.ssh}`;
  const { host, port, user } = h.ssh;
  return `${user ? `${user}@` : ''}${host ?? h.name}${port && port !== 22 ? `:${port}` : ''}`;
}

function worst(states: EndpointState[]): EndpointState | undefined {
  let best: number | undefined;
  for (const s of states) {
    const r = STATE_ORDER.indexOf(s);
    if (r >= 0 && (best === undefined || r < best)) best = r;
  }
  return best === undefined ? undefined : STATE_ORDER[best];
}

/** The whole tree, one ItemSpec per host with its endpoints below. */
export function buildTree(model: TreeModel): ItemSpec[] {
  return (model.inventory?.hosts ?? []).map((h) => hostItem(model, h));
}

function hostItem(model: TreeModel, h: HostEntry): ItemSpec {
  const endpoints = h.endpoints.map((e) => endpointItem(model, h, e));
  const statuses = h.endpoints.map((e) => model.statuses.get(statusKey(h.name, e.name))).filter((s): s is EndpointStatus => !!s);
  const w = worst(statuses.flatMap((s) => s.states));
  const busy = h.endpoints.some((e) => model.busy.has(statusKey(h.name, e.name)) || model.rotating?.has(statusKey(h.name, e.name)));
  const problems = statuses.filter((s) => !s.states.includes('ok')).length;
  return {
    id: `host:${h.name}`,
    label: display(h.name),
    description: display(`${sshText(h)}${statuses.length ? ` · ${problems ? `${problems} of ${h.endpoints.length} need attention` : 'all OK'}` : ''}`),
    tooltip: display(`${h.name}: ${sshText(h)}${typeof h.ssh === 'object' && h.ssh.sudo ? ' (sudo)' : ''}`),
    contextValue: 'certops:host refreshable',
    icon: busy ? { id: 'loading~spin' } : { id: 'server', color: w ? STATE_LOOK[w].color : undefined },
    collapsible: 'expanded',
    host: h.name,
    children: endpoints,
  };
}

function endpointItem(model: TreeModel, h: HostEntry, e: EndpointEntry): ItemSpec {
  const key = statusKey(h.name, e.name);
  const s = model.statuses.get(key);
  const step = model.rotating?.get(key);
  const busy = model.busy.has(key) || step !== undefined;
  const w = s ? worst(s.states) : undefined;
  const base = { host: h.name, endpoint: e.name };
  const id = `endpoint:${key}`;
  const probe = `${e.probe.host}:${e.probe.port}${e.probe.servername ? ` (SNI ${e.probe.servername})` : ''}${e.probe.via === 'ssh' ? ' via ssh' : ''}${e.probe.starttls ? ` starttls ${e.probe.starttls}` : ''}`;
  const tooltip = [`${h.name}/${e.name}`, `probe ${probe}`, `reload ${e.reload.kind}`, ...(s ? s.messages : []), s ? `checked ${s.checkedAt}` : 'not checked yet'];
  const children: ItemSpec[] = [];
  if (s) {
    const disk = s.files.cert.certificate;
    children.push({
      ...base,
      id: `${id}:disk`,
      label: 'on disk',
      description: disk ? display(`${disk.subject} · ${daysText(disk.daysLeft)}`) : display(s.files.cert.error ?? 'no certificate read'),
      tooltip: disk ? lines([disk.subject, `not after ${disk.notAfter}`, `SHA-256 ${disk.sha256}`, s.files.cert.path]) : undefined,
      contextValue: `certops:certificate${disk ? ' fingerprint' : ''} openable`,
      icon: { id: 'verified' },
      collapsible: 'none',
      file: e.files.cert,
      sha256: disk?.sha256,
      children: [],
    });
    const served = s.served;
    children.push({
      ...base,
      id: `${id}:served`,
      label: 'served',
      description: served ? display(`${served.subject} · ${daysText(served.daysLeft)}`) : display(s.probeError ?? 'not probed'),
      tooltip: served ? lines([served.subject, `not after ${served.notAfter}`, `SHA-256 ${served.sha256}`, `from ${probe}`]) : display(`${probe}: ${s.probeError ?? 'not probed'}`),
      contextValue: `certops:served${served ? ' fingerprint' : ''}`,
      icon: { id: served ? 'globe' : 'debug-disconnect', color: served ? undefined : ERROR },
      collapsible: 'none',
      sha256: served?.sha256,
      children: [],
    });
  }
  const files: [string, string, FileFacts | undefined][] = [['cert', e.files.cert, s?.files.cert]];
  if (e.files.key) files.push(['key', e.files.key, s?.files.key]);
  if (e.files.ca) files.push(['CA', e.files.ca, s?.files.ca]);
  for (const [role, path, facts] of files) children.push(fileItem(base, `${id}:${role}`, role, path, facts));
  if (s && w !== 'ok') {
    // Sentences and states are not one-to-one (a state may have several reasons), so the rows share one icon.
    s.messages.forEach((m, i) => {
      children.push({
        ...base,
        id: `${id}:msg:${i}`,
        label: display(m),
        tooltip: display(m),
        contextValue: 'certops:message',
        icon: { id: 'info' },
        collapsible: 'none',
        children: [],
      });
    });
  }
  const lock = model.interrupted?.get(key);
  if (lock) {
    children.unshift({
      ...base,
      id: `${id}:interrupted`,
      label: display(lock),
      tooltip: display(lock),
      contextValue: 'certops:message interrupted',
      icon: { id: 'warning', color: WARNING },
      collapsible: 'none',
      children: [],
    });
  }
  const days = s?.files.cert.certificate?.daysLeft;
  return {
    ...base,
    id,
    label: display(e.name),
    description: step !== undefined
      ? display(`rotating: ${step}…`)
      : busy
      ? 'checking…'
      : s
        ? display(`${lock ? 'rotation lock, ' : ''}${s.states.map((st) => STATE_LOOK[st]?.label ?? st).join(', ')}${days !== undefined ? ` · ${daysText(days)}` : ''}`)
        : 'not checked yet',
    tooltip: lines(tooltip),
    contextValue: `certops:endpoint refreshable probeable${lock ? ' interrupted' : ''}`,
    icon: busy ? { id: 'loading~spin' } : w ? { id: STATE_LOOK[w].icon, color: STATE_LOOK[w].color } : { id: 'circle-outline' },
    collapsible: 'collapsed',
    children,
  };
}

function fileItem(base: { host: string; endpoint: string }, id: string, role: string, path: string, facts: FileFacts | undefined): ItemSpec {
  const st = facts?.stat;
  const owner = st ? `${st.owner ?? st.uid}:${st.group ?? st.gid}` : undefined;
  const detail = facts?.error ? facts.error : st ? `${modeText(st.mode)} ${owner}` : undefined;
  const cert = facts?.certificate;
  return {
    ...base,
    id,
    label: role,
    description: display(`${path}${detail ? ` · ${detail}` : ''}`),
    tooltip: lines([path, st ? `mode ${modeText(st.mode)}, owner ${owner}, ${st.size} bytes` : (facts?.error ?? 'not checked yet'), cert ? `${cert.subject}, SHA-256 ${cert.sha256}` : ''].filter(Boolean)),
    contextValue: `certops:file openable${cert ? ' fingerprint' : ''}`,
    icon: { id: role === 'key' ? 'key' : 'file', color: facts?.error ? ERROR : undefined },
    collapsible: 'none',
    file: path,
    sha256: cert?.sha256,
    children: [],
  };
}

/** Every endpoint's status in the tree's order, for the monitor and the status bar. */
export function allStatuses(model: TreeModel): EndpointStatus[] {
  return (model.inventory?.hosts ?? []).flatMap((h) => h.endpoints.map((e) => model.statuses.get(statusKey(h.name, e.name))).filter((s): s is EndpointStatus => !!s));
}
