// Makes a throw-away self-signed certificate for 127.0.0.1/localhost in
// .certs/ before the tests start: Node reads NODE_EXTRA_CA_CERTS only at
// start-up, so the test processes must be launched with the file in place
// (see the "test" script). Outside test/ so that node --test does not run it.
import {execFileSync} from 'node:child_process';
import {mkdirSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '.certs');
mkdirSync(dir, {recursive: true});
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
  '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2',
  '-subj', '/CN=localhost',
  '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  '-addext', 'basicConstraints=critical,CA:TRUE',
], {stdio: ['ignore', 'ignore', 'pipe']});
