/**
 * Where a browser may be sent after login: only a relative path on this service. Anything a
 * browser could read as another origin is refused, however it is written or encoded.
 */

/** The longest return path kept, as it is sent (percent-encoded): it travels sealed in a cookie, and cookies hold 4 KB. */
const MAX_LENGTH = 2048;
const BASE = 'http://return-path.invalid';

/** Decodes percent-encoding up to `rounds` times; stops at the first string that does not decode. */
function decodings(value: string, rounds = 3): string[] {
  const forms = [value];
  let current = value;
  for (let i = 0; i < rounds; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      break;
    }
    if (next === current) break;
    forms.push(next);
    current = next;
  }
  return forms;
}

// White space, control characters, line and paragraph separators: browsers strip or fold them.
// eslint-disable-next-line no-control-regex
const FOLDED = /[\s\u0000-\u001f\u007f-\u009f\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f\u2060\u3000\ufeff]/;

/**
 * Whether one form of the path is safe; `decoded` forms may hold white space in their query or
 * fragment (a tool's `scope=a%20b`), which decides nothing about where the browser goes.
 */
function isSafeForm(form: string, decoded: boolean): boolean {
  const decisive = decoded ? form.split(/[?#]/, 1)[0]! : form;
  if (FOLDED.test(decisive)) return false;
  // Backslashes are read as slashes by browsers.
  if (form.includes('\\')) return false;
  if (!form.startsWith('/')) return false;
  // Protocol-relative, and look-alike slashes and dots that some systems normalise.
  if (/^\/[/\uff0f\u2215\u2044\u29f8]/.test(form)) return false;
  if (/[\uff0f\u2215\u2044\u29f8\uff3c\ufe68\u3002\uff0e\uff61]/.test(form)) return false;
  // Userinfo or authority tricks right after the first slash ("/@evil.com", "/:@evil").
  if (/^\/[@:]/.test(form)) return false;
  return true;
}

/**
 * `input` if it is a path on this service, ASCII as a `Location` header must be; undefined otherwise. `maxLength` bounds
 * a path kept (in a cookie, a sealed state); a link of this service's own making (a callback brought back) may be longer.
 */
export function safeReturnPath(input: unknown, maxLength = MAX_LENGTH): string | undefined {
  if (typeof input !== 'string' || input === '' || input.length > maxLength) return undefined;
  if (!decodings(input).every((form, round) => isSafeForm(form, round > 0))) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(input, BASE);
  } catch {
    return undefined;
  }
  if (parsed.origin !== new URL(BASE).origin) return undefined;
  const ascii = asciiOnly(input);
  // Percent-encoding makes a character outside ASCII six to twelve: the length that counts is the one sent.
  return ascii !== undefined && ascii.length <= maxLength ? ascii : undefined;
}

/**
 * The path with every character outside ASCII percent-encoded as UTF-8, as a `Location` header
 * must be (Node.js refuses anything above U+00FF there); undefined for a lone surrogate, which no
 * URL can hold.
 */
function asciiOnly(path: string): string | undefined {
  try {
    return path.replace(/[^ -~]+/g, encodeURIComponent);
  } catch {
    return undefined;
  }
}
