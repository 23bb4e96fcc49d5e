import { describe, expect, it } from 'vitest';
import { signWebhookBody, signWebhookTimestamp } from '../webhooks/signing.js';
import { verifyWebhookSignature, verifyWebhookTimestampSignature } from './webhooks.js';

const body = '{"event":"customer.created","customer":{"id":"01H"}}';

describe('verifyWebhookSignature', () => {
  it('accepts the signature the server makes, from a string or bytes, in either hex case', () => {
    const header = signWebhookBody('s3cret', body);
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(body, header, 's3cret')).toBe(true);
    expect(verifyWebhookSignature(Buffer.from(body), header, 's3cret')).toBe(true);
    expect(verifyWebhookSignature(body, header.toUpperCase().replace('SHA256=', 'sha256='), 's3cret')).toBe(true);
  });

  it('matches a known HMAC-SHA256 vector', () => {
    // RFC 4231 test case 2.
    expect(signWebhookBody('Jefe', 'what do ya want for nothing?')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('rejects another secret, a changed body, and malformed headers', () => {
    const header = signWebhookBody('s3cret', body);
    expect(verifyWebhookSignature(body, header, 'other')).toBe(false);
    expect(verifyWebhookSignature(`${body} `, header, 's3cret')).toBe(false);
    expect(verifyWebhookSignature(body, header.slice(7), 's3cret')).toBe(false);
    expect(verifyWebhookSignature(body, header.slice(0, -2), 's3cret')).toBe(false);
    expect(verifyWebhookSignature(body, `sha1=${header.slice(7)}`, 's3cret')).toBe(false);
    expect(verifyWebhookSignature(body, undefined, 's3cret')).toBe(false);
    expect(verifyWebhookSignature(body, null, 's3cret')).toBe(false);
  });
});

describe('verifyWebhookTimestampSignature', () => {
  const now = 1_800_000_000_000;
  const ts = now / 1000;

  it('accepts a fresh timestamp signed with the body', () => {
    const header = signWebhookTimestamp('k', ts, body);
    expect(verifyWebhookTimestampSignature(body, String(ts), header, 'k', { now })).toBe(true);
    expect(
      verifyWebhookTimestampSignature(body, String(ts - 299), signWebhookTimestamp('k', ts - 299, body), 'k', { now }),
    ).toBe(true);
  });

  it('rejects an old timestamp, a swapped timestamp, and a bad signature', () => {
    const old = ts - 301;
    expect(verifyWebhookTimestampSignature(body, String(old), signWebhookTimestamp('k', old, body), 'k', { now })).toBe(
      false,
    );
    expect(
      verifyWebhookTimestampSignature(body, String(ts), signWebhookTimestamp('k', ts - 1, body), 'k', { now }),
    ).toBe(false);
    expect(verifyWebhookTimestampSignature(body, String(ts), signWebhookBody('k', body), 'k', { now })).toBe(false);
    expect(verifyWebhookTimestampSignature(body, 'soon', signWebhookTimestamp('k', ts, body), 'k', { now })).toBe(
      false,
    );
    expect(
      verifyWebhookTimestampSignature(body, String(ts), signWebhookTimestamp('k', ts, body), 'k', {
        now,
        toleranceSeconds: -1,
      }),
    ).toBe(false);
  });
});
