// `certops expiry FILE... [--within DAYS]`: the cron and CI check.
import { daysUntil } from '../services/context';
import { loadCertificates } from './blocks';
import { EXIT, loadEach, painter, parseCommand, parseCount, printJson, untrusted, UsageError } from './io';
import type { Command } from './main';

/** The language server's default `certops.expiry.criticalDays`, so the CLI and the editor agree. */
export const DEFAULT_WITHIN_DAYS = 7;

const HELP = `Usage: certops expiry FILE... [--within DAYS] [--json]

Checks every certificate of every file (PEM bundles, DER and PKCS#7). Exit 1 when any
certificate has expired or expires within DAYS days (default ${DEFAULT_WITHIN_DAYS}, the
editor's critical threshold); exit 0 when all are good for longer. A file
that cannot be read or holds no certificate is reported on stderr, the others
are still checked, and the exit code is then 2.
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
    // One unreadable argument (a directory among /etc/ssl/certs/*) must not leave the others unchecked.
    const { loaded: files, bad: failed } = loadEach('expiry', positionals, io, (path) => ({ path, certs: loadCertificates(path) }));
    const rows = files.flatMap(({ path, certs }) =>
      certs.map(({ block, certificate: cert, location }) => {
        const base = { file: path, location, range: block.range, subject: cert.subject, sha256: cert.sha256 };
        // A validity the decoder could not read is a failure, never a guessed date.
        if (!cert.notAfter) return { ...base, notAfter: null, daysLeft: null, status: 'invalid' as const };
        const notAfter = cert.notAfter.getTime();
        const status = notAfter <= now.getTime() ? 'expired' : notAfter <= deadline ? 'expiring' : 'ok';
        return { ...base, notAfter: cert.notAfter.toISOString(), daysLeft: daysUntil(cert.notAfter, now), status };
      }),
    );
    const ok = failed.length === 0 && rows.every((r) => r.status === 'ok');
    if (values.json) {
      printJson(io, { ok, within, now: now.toISOString(), certificates: rows, unreadable: failed });
    } else {
      const paint = painter(io.color);
      for (const r of rows) {
        const label = r.status === 'ok' ? paint('green', 'ok      ') : r.status === 'expiring' ? paint('yellow', 'EXPIRING') : r.status === 'invalid' ? paint('red', 'INVALID ') : paint('red', 'EXPIRED ');
        const when = r.daysLeft === null ? 'no readable expiry date' : `${r.notAfter} (${r.daysLeft >= 0 ? `${r.daysLeft} days left` : `expired ${-r.daysLeft} days ago`})`;
        io.out(`${untrusted(r.location)}  ${label}  ${when}  ${untrusted(r.subject)}\n`);
      }
      const bad = rows.filter((r) => r.status !== 'ok').length;
      const total = `${rows.length} certificate${rows.length === 1 ? '' : 's'}`;
      if (rows.length > 0 || failed.length === 0) io.out(bad === 0 ? `${total}, none expires within ${within} days\n` : `${bad} of ${total} expired or expire within ${within} days\n`);
    }
    return failed.length > 0 ? EXIT.usage : ok ? EXIT.ok : EXIT.failed;
  },
};
