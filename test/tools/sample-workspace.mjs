// Generates a folder of certificates relative to the current time, for the VS Code
// test layer and for `npm start`. Nothing here is committed: keys are made fresh each run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(cwd, args) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function ext(cwd, name, lines) {
  writeFileSync(join(cwd, name), `${lines.join('\n')}\n`);
  return name;
}

/**
 * Writes a small PKI into `dir`: a root CA, an intermediate, a server leaf
 * (`api.pem`, its key `api-key.pem`, the chain `fullchain.pem`), a leaf that
 * expires in 3 days and its key (also as a Kubernetes Secret), a chain in the wrong order, and the root.
 * Returns a manifest of what each file holds, which tests read to know what to expect.
 */
export function makeSampleWorkspace(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const work = join(dir, '.work');
  mkdirSync(work);
  const key = (name) => openssl(work, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name]);
  const caExt = ext(work, 'ca.ext', ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid:always']);
  const leafExt = (san) => ext(work, `leaf-${san}.ext`, ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth', `subjectAltName=DNS:${san}`, 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid:always']);

  key('root.key');
  openssl(work, ['req', '-x509', '-new', '-key', 'root.key', '-subj', '/O=Cert Ops Sample/CN=Cert Ops Sample Root', '-days', '3650', '-out', 'root.crt',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  key('int.key');
  openssl(work, ['req', '-new', '-key', 'int.key', '-subj', '/O=Cert Ops Sample/CN=Cert Ops Sample Intermediate', '-out', 'int.csr']);
  openssl(work, ['x509', '-req', '-in', 'int.csr', '-CA', 'root.crt', '-CAkey', 'root.key', '-CAcreateserial', '-days', '1825', '-extfile', caExt, '-out', 'int.crt']);

  const leaf = (name, cn, days) => {
    key(`${name}.key`);
    openssl(work, ['req', '-new', '-key', `${name}.key`, '-subj', `/O=Cert Ops Sample/CN=${cn}`, '-out', `${name}.csr`]);
    openssl(work, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'int.crt', '-CAkey', 'int.key', '-CAcreateserial', '-days', String(days),
      '-extfile', leafExt(cn), '-out', `${name}.crt`]);
  };
  leaf('api', 'api.example.test', 90);
  leaf('soon', 'soon.example.test', 3);

  const read = (f) => readFileSync(join(work, f), 'utf8');
  writeFileSync(join(dir, 'api.pem'), read('api.crt'));
  writeFileSync(join(dir, 'api-key.pem'), read('api.key'), { mode: 0o600 });
  writeFileSync(join(dir, 'fullchain.pem'), read('api.crt') + read('int.crt'));
  writeFileSync(join(dir, 'soon.crt'), read('soon.crt'));
  writeFileSync(join(dir, 'soon.key'), read('soon.key'), { mode: 0o600 });
  writeFileSync(join(dir, 'wrong-order.pem'), read('int.crt') + read('api.crt'));
  writeFileSync(join(dir, 'root-ca.crt'), read('root.crt'));
  // PEM where Kubernetes keeps it: base64 in a Secret's data.
  const b64 = (f) => Buffer.from(read(f)).toString('base64');
  writeFileSync(join(dir, 'tls-secret.yaml'), ['apiVersion: v1', 'kind: Secret', 'metadata:', '  name: soon-tls', 'type: kubernetes.io/tls', 'data:',
    `  tls.crt: ${b64('soon.crt')}`, `  tls.key: ${b64('soon.key')}`, ''].join('\n'), { mode: 0o600 });
  rmSync(work, { recursive: true, force: true });

  const manifest = {
    'api.pem': { subjectCN: 'api.example.test', issuerCN: 'Cert Ops Sample Intermediate' },
    'soon.crt': { subjectCN: 'soon.example.test', expiresInDays: 3 },
    'fullchain.pem': { blocks: 2 },
    'wrong-order.pem': { blocks: 2 },
    'root-ca.crt': { subjectCN: 'Cert Ops Sample Root' },
    'tls-secret.yaml': { certificateLine: 6, subjectCN: 'soon.example.test', expiresInDays: 3 },
  };
  writeFileSync(join(dir, '.certops-sample.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}
