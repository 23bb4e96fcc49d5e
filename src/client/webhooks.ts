import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Helpers for receivers of customers-api (and LOKE) webhooks. Node builtins
 * only, so they can be copied into any service.
 */

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

function matches(expected: Buffer, header: string | null | undefined): boolean {
  if (typeof header !== 'string') return false;
  const match = SIGNATURE.exec(header.trim());
  if (!match) return false;
  const given = Buffer.from(match[1]!.toLowerCase(), 'hex');
  // Both are 32 bytes here, so timingSafeEqual never throws and the comparison leaks no prefix length.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Checks the `X-Event-Signature` header of a webhook delivery, in constant
 * time. Pass the raw request body exactly as received (not re-serialized JSON).
 *
 * @example
 * ```ts
 * import { verifyWebhookSignature } from 'customers-api/client/webhooks';
 * const ok = verifyWebhookSignature(rawBody, req.headers['x-event-signature'], process.env.WEBHOOK_SECRET);
 * if (!ok) return res.writeHead(401).end();
 * ```
 */
export function verifyWebhookSignature(
  rawBody: Uint8Array | string,
  signatureHeader: string | null | undefined,
  secret: string,
): boolean {
  return matches(createHmac('sha256', secret).update(rawBody).digest(), signatureHeader);
}

export interface TimestampedSignatureOptions {
  /** Oldest accepted `X-Event-Timestamp`, in seconds before now; default 300. */
  toleranceSeconds?: number;
  /** The current time in epoch milliseconds; default `Date.now()`. */
  now?: number;
}

/**
 * Checks `X-Event-Timestamp-Signature` (HMAC of `"<timestamp>.<raw body>"`)
 * and that `X-Event-Timestamp` is recent, which rejects replays of captured
 * deliveries. Deduplicate retries by `X-Event-Id` as well: a retry is a new
 * request with a new timestamp.
 *
 * @example
 * ```ts
 * const ok = verifyWebhookTimestampSignature(rawBody, req.headers['x-event-timestamp'],
 *   req.headers['x-event-timestamp-signature'], secret, { toleranceSeconds: 300 });
 * ```
 */
export function verifyWebhookTimestampSignature(
  rawBody: Uint8Array | string,
  timestampHeader: string | null | undefined,
  signatureHeader: string | null | undefined,
  secret: string,
  options: TimestampedSignatureOptions = {},
): boolean {
  if (typeof timestampHeader !== 'string' || !/^\d{1,12}$/.test(timestampHeader.trim())) return false;
  const timestamp = Number(timestampHeader.trim());
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(now - timestamp) > tolerance) return false;
  return matches(createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest(), signatureHeader);
}
