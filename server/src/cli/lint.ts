// `certops lint FILE...`: the language server's diagnostics, for CI.
import { computeDiagnostics } from '../services/diagnostics';
import { DEFAULT_SETTINGS } from '../services/settings';
import { loadFile } from './blocks';
import { contextFor } from './context';
import { EXIT, loadEach, painter, parseCommand, parseCount, printJson, untrusted, UsageError } from './io';
import type { Command } from './main';
import { cliTrustStore } from './trust';

const HELP = `Usage: certops lint FILE... [--warning-days N] [--critical-days N] [--ca FILE]... [--json]

Prints the diagnostics the editor shows, one per line:
  FILE:LINE:COL SEVERITY CODE MESSAGE
PEM files, and PEM or base64 PEM embedded in YAML, JSON, .env files and
Kubernetes Secrets, with positions inside the file, as in the editor. Key
files are checked against sibling certificate files (server.key and
server.crt, privkey.pem and fullchain.pem, ...) as in the editor. The trust
store for chain-incomplete is $SSL_CERT_FILE / $SSL_CERT_DIR, else the system
bundle, else Node's bundled roots; --ca adds trust anchors to it. A file that
cannot be read is reported on stderr and the others are still checked. Exit 1
when any diagnostic is an error, 0 otherwise (warnings do not fail), 2 on bad
usage or when a file could not be read.
`;

const SEVERITIES: Record<number, string> = { 1: 'error', 2: 'warning', 3: 'info', 4: 'hint' };

/** The `lint` command. */
export const lintCommand: Command = {
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseCommand('lint', args, {
      'warning-days': { type: 'string' },
      'critical-days': { type: 'string' },
      ca: { type: 'string', multiple: true },
    });
    if (positionals.length === 0) throw new UsageError('expected at least one FILE (see certops lint --help)');
    const settings = {
      ...DEFAULT_SETTINGS,
      expiry: {
        warningDays: parseCount('warning-days', values['warning-days'], DEFAULT_SETTINGS.expiry.warningDays),
        criticalDays: parseCount('critical-days', values['critical-days'], DEFAULT_SETTINGS.expiry.criticalDays),
      },
      trust: { extraCAFiles: values.ca ?? [] },
    };
    const trust = cliTrustStore(io, settings.trust.extraCAFiles);
    const { loaded: files, bad } = loadEach('lint', positionals, io, (p) => loadFile(p, undefined, settings));
    const results = files.map((f) => ({
      file: f.path,
      diagnostics: computeDiagnostics(f.analysis, settings, contextFor(f, io, trust)).map((d) => ({
        range: d.range,
        severity: SEVERITIES[d.severity ?? 1] ?? 'error',
        code: String(d.code ?? ''),
        message: typeof d.message === 'string' ? d.message : d.message.value,
      })),
    }));
    const errors = results.reduce((n, r) => n + r.diagnostics.filter((d) => d.severity === 'error').length, 0);
    if (values.json) {
      printJson(io, { errors, files: results, unreadable: bad });
    } else {
      const paint = painter(io.color);
      const styles: Record<string, (s: string) => string> = { error: (s) => paint('red', s), warning: (s) => paint('yellow', s) };
      for (const r of results) {
        for (const d of r.diagnostics) {
          const severity = (styles[d.severity] ?? ((s: string) => s))(d.severity);
          // One line per diagnostic is the contract (grep, editors' problem matchers): fold any newline.
          io.out(`${untrusted(r.file)}:${d.range.start.line + 1}:${d.range.start.character + 1} ${severity} ${d.code} ${untrusted(d.message.replace(/\s*\n\s*/g, ' '))}\n`);
        }
      }
    }
    return bad.length > 0 ? EXIT.usage : errors > 0 ? EXIT.failed : EXIT.ok;
  },
};
