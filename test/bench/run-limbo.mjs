// Bundles the x509-limbo benchmark and runs it with the current node.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureDebianPackages } from '../tools/debian.mjs';
import { bundleBench, ROOT as root } from './bundle.mjs';

const outfile = await bundleBench('limbo');
// The public-suffix wildcard cases need the system's Public Suffix List; without it they are counted as skipped.
ensureDebianPackages([['/usr/share/publicsuffix/public_suffix_list.dat', 'publicsuffix']]);
// The suite lives beside the project (../shared/conformance/), found from this script's location whatever the working directory.
const LIMBO = process.env.LIMBO ?? join(root, '..', 'shared', 'conformance', 'x509-limbo.json.gz');
const r = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env: { ...process.env, LIMBO } });
process.exit(r.status ?? 1);
