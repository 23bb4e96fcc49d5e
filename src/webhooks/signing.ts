import { createHmac } from 'node:crypto';

/** `sha256=<hex HMAC-SHA256(secret, raw body)>`, the LOKE `X-Event-Signature` header value. */
export function signWebhookBody(secret: string, body: Uint8Array | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`: our
 * `X-Event-Timestamp-Signature` extension. LOKE's signature covers only the
 * body, so a captured request can be replayed with a fresh
 * `X-Event-Timestamp`; this one binds the timestamp too.
 */
export function signWebhookTimestamp(secret: string, timestamp: number, body: Uint8Array | string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}
