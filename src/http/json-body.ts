import { invalidField, unsupportedMediaType, type AppError } from '../errors.js';

// fatal: a byte sequence that is not UTF-8 throws instead of turning silently into U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The `charset` parameter of a Content-Type, lower-cased, or undefined when it has none. */
function charsetOf(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*("?)([^";\s]+)\1/i.exec(contentType ?? '');
  return match?.[2]?.toLowerCase();
}

/** Where in `bytes` the first invalid UTF-8 sequence starts (RFC 3629 §4: no overlong forms, no surrogates). */
function firstInvalidByte(bytes: Buffer): number {
  let at = 0;
  while (at < bytes.length) {
    const lead = bytes[at]!;
    if (lead < 0x80) {
      at++;
      continue;
    }
    const trailing =
      lead >= 0xc2 && lead <= 0xdf ? 1 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : 0;
    if (trailing === 0) return at;
    let codePoint = lead & (0x3f >> trailing);
    for (let k = 1; k <= trailing; k++) {
      const next = bytes[at + k];
      if (next === undefined || (next & 0xc0) !== 0x80) return at;
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    const shortest = [0, 0x80, 0x800, 0x10000][trailing]!;
    if (codePoint < shortest || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return at;
    at += trailing + 1;
  }
  return at;
}

/**
 * The text of a JSON request body: UTF-8 (RFC 8259 §8.1) and nothing else. A body labelled with another charset is a
 * 415; bytes that are not UTF-8 are a 400 naming where they start, never replaced by U+FFFD and stored as such.
 */
export function decodeJsonBody(contentType: string | undefined, body: Buffer): string | AppError {
  const charset = charsetOf(contentType);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return unsupportedMediaType(`Send the body as application/json in UTF-8; charset=${charset} is not accepted`);
  }
  try {
    return utf8.decode(body);
  } catch {
    return invalidField(
      'body',
      `is not valid UTF-8 (an invalid byte sequence starts at byte ${firstInvalidByte(body)})`,
    );
  }
}
