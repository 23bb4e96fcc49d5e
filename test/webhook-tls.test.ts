import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'customers-api-tls-'));

/**
 * https delivery to a name pinned to the checked address: the TLS handshake
 * must still present the name (SNI) and verify the certificate against it.
 * Runs in a child process because trusting a test CA needs
 * NODE_EXTRA_CA_CERTS at startup; it uses the build (`npm test` builds first).
 */
describe.skipIf(!hasOpenssl)('webhook delivery over https', () => {
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('connects to the pinned address with the host name for SNI and certificate checks', () => {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=receiver.test',
        '-addext',
        'subjectAltName=DNS:receiver.test',
      ],
      { stdio: 'ignore' },
    );
    const script = path.join(dir, 'check.mjs');
    fs.writeFileSync(
      script,
      `
import https from 'node:https';
import fs from 'node:fs';
import { postWebhook } from ${JSON.stringify(path.join(root, 'dist/webhooks/delivery.js'))};
const seen = [];
const server = https.createServer({ key: fs.readFileSync(${JSON.stringify(key)}), cert: fs.readFileSync(${JSON.stringify(cert)}) }, (req, res) => {
  seen.push({ servername: req.socket.servername, host: req.headers.host });
  req.resume();
  req.on('end', () => res.writeHead(200).end());
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;
const resolve = async (name) => (name === 'receiver.test' ? [{ address: '127.0.0.1', family: 4 }] : []);
const request = (url) => ({ url, body: Buffer.from('{}'), headers: {}, timeoutMs: 5000, allowPrivate: true, resolve });
const named = await postWebhook(request('https://receiver.test:' + port + '/x'));
const byAddress = await postWebhook(request('https://127.0.0.1:' + port + '/x'));
server.close();
console.log(JSON.stringify({ named, byAddress, seen }));
`,
    );
    const run = spawnSync(process.execPath, [script], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: cert },
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout) as {
      named: { ok: boolean; status?: number };
      byAddress: { ok: boolean; error?: string };
      seen: { servername: string; host: string }[];
    };
    expect(result.named).toMatchObject({ ok: true, status: 200 });
    expect(result.seen).toEqual([
      { servername: 'receiver.test', host: expect.stringMatching(/^receiver\.test:\d+$/) as unknown },
    ]);
    // The certificate names receiver.test, not the address: verification is against the URL's name.
    expect(result.byAddress.ok).toBe(false);
    expect(result.byAddress.error).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });
});
