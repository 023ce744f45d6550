/**
 * The TLS rows' certificate: one self-signed ECDSA P-256 certificate for
 * `app.example.com`, made with openssl into the run's temp dir, so that
 * NGINX, HAProxy and Sluice terminate TLS with the very same key (the
 * handshake's signature cost depends on it).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchCert {
  certFile: string;
  keyFile: string;
  /** Certificate then key, for HAProxy's `crt`. */
  pemFile: string;
  certPem: string;
  keyPem: string;
}

export function makeCert(openssl: string, dir: string, hostname: string): BenchCert {
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      `/CN=${hostname}`,
      '-addext',
      `subjectAltName=DNS:${hostname}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const certPem = readFileSync(certFile, 'utf8');
  const keyPem = readFileSync(keyFile, 'utf8');
  const pemFile = join(dir, 'haproxy.pem');
  writeFileSync(pemFile, certPem + keyPem);
  return { certFile, keyFile, pemFile, certPem, keyPem };
}
