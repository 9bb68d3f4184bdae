// `certops expiry FILE... [--within DAYS]`: the cron and CI check.
import { daysUntil } from '../services/context';
import { loadCertificates } from './blocks';
import { EXIT, painter, parseCommand, parseCount, printJson, UsageError } from './io';
import type { Command } from './main';

/** The language server's default `certops.expiry.criticalDays`, so the CLI and the editor agree. */
export const DEFAULT_WITHIN_DAYS = 7;

const HELP = `Usage: certops expiry FILE... [--within DAYS] [--json]

Checks every certificate of every file (PEM bundles and DER). Exit 1 when any
certificate has expired or expires within DAYS days (default ${DEFAULT_WITHIN_DAYS}, the
editor's critical threshold); exit 0 when all are good for longer.
`;

/** The `expiry` command. */
export const expiryCommand: Command = {
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseCommand('expiry', args, { within: { type: 'string' } });
    if (positionals.length === 0) throw new UsageError('expected at least one FILE (see certops expiry --help)');
    const within = parseCount('within', values.within, DEFAULT_WITHIN_DAYS);
    const now = io.now();
    const deadline = now.getTime() + within * 86_400_000;
    // Read everything first, so an unreadable file fails the run before anything is printed.
    const files = positionals.map((path) => ({ path, certs: loadCertificates(path) }));
    const rows = files.flatMap(({ path, certs }) =>
      certs.map(({ block, cert, location }) => {
        const notAfter = cert.notAfter.getTime();
        const status = notAfter <= now.getTime() ? 'expired' : notAfter <= deadline ? 'expiring' : 'ok';
        return { file: path, location, range: block.range, subject: cert.subject, sha256: cert.sha256, notAfter: cert.notAfter.toISOString(), daysLeft: daysUntil(cert.notAfter, now), status };
      }),
    );
    const ok = rows.every((r) => r.status === 'ok');
    if (values.json) {
      printJson(io, { ok, within, now: now.toISOString(), certificates: rows });
    } else {
      const paint = painter(io.color);
      for (const r of rows) {
        const label = r.status === 'ok' ? paint('green', 'ok      ') : r.status === 'expiring' ? paint('yellow', 'EXPIRING') : paint('red', 'EXPIRED ');
        const left = r.daysLeft >= 0 ? `${r.daysLeft} days left` : `expired ${-r.daysLeft} days ago`;
        io.out(`${r.location}  ${label}  ${r.notAfter} (${left})  ${r.subject}\n`);
      }
      const bad = rows.filter((r) => r.status !== 'ok').length;
      const total = `${rows.length} certificate${rows.length === 1 ? '' : 's'}`;
      io.out(bad === 0 ? `${total}, none expires within ${within} days\n` : `${bad} of ${total} expired or expire within ${within} days\n`);
    }
    return ok ? EXIT.ok : EXIT.failed;
  },
};
