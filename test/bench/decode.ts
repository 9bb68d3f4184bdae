// Decoder speed: every certificate of the system CA bundle, repeated to about 10,000, through analyzeDocument; CPU ms per 1,000 certificates.
import { readFileSync } from 'node:fs';
import { analyzeDocument } from '../../server/src/analysis/index';
import { decodeStats } from '../../server/src/analysis/decode';

const BUNDLE = process.env.BUNDLE ?? '/etc/ssl/certs/ca-certificates.crt';
const COPIES = Number(process.env.COPIES ?? 70);
const RUNS = Number(process.env.RUNS ?? 5);
const one = readFileSync(BUNDLE, 'utf8');
// Decoded results are cached by PEM headers and body; a header naming the run and copy makes every block a cache miss, so the decoder itself is measured.
const texts = (run: number) =>
  Array.from({ length: COPIES }, (_, k) => one.replace(/-----BEGIN CERTIFICATE-----\n/g, `-----BEGIN CERTIFICATE-----\nComment: ${run}.${k}\n\n`)).join('\n');
const text = texts(0);
const certs = (text.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;
const per1k: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const input = texts(i);
  const misses = decodeStats.misses;
  const c0 = process.cpuUsage();
  const a = analyzeDocument(input);
  const c = process.cpuUsage(c0);
  const ms = (c.user + c.system) / 1000;
  per1k.push((ms * 1000) / certs);
  if (decodeStats.misses - misses !== certs) throw new Error(`expected ${certs} decodes, saw ${decodeStats.misses - misses}`);
  if (i === 0) console.log(`decoded ${certs} certificates in ${a.blocks.length} blocks`);
}
per1k.sort((x, y) => x - y);
console.log(`runs ${per1k.map((v) => v.toFixed(1)).join(' ')}; median ${per1k[Math.floor(per1k.length / 2)].toFixed(1)} CPU ms per 1,000 certificates`);
