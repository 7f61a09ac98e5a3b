// The forms a secret takes in text orch prints or a template commonly produces. The quoting functions are the
// ones orch itself writes with (imported, never re-implemented), so the redactor masks exactly what lands.
import { pgpassFilter, sqlLiteralFilter } from '../render/filters.js';
import { shQuote } from '../shell/quote.js';
// confString is the quoting of postgresql.conf string values (the same as confValue in conf.ts for strings);
// it is taken from the dependency-free module so every CLI start does not load the state modules.
import { confString, conninfoValue } from '../pg/conninfo.js';

/** Shortest base64 fragment masked when a secret sits at an unknown offset inside a larger base64 blob. */
const MIN_B64_CORE = 6;

/** Every form of `secret` worth masking: plaintext, case, JSON/URL/HTML escapes, orch's quotings, hex, base64. */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret, secret.toUpperCase(), secret.toLowerCase()]);
  const addQuoted = (quote: (s: string) => string) => {
    let q: string;
    try {
      q = quote(secret);
    } catch {
      return; // the encoder refuses this value (NUL, newline): orch can never write it that way
    }
    // Only the text between the quotes: the quotes themselves are no secret, and leaving them makes a masked
    // line read as it did (PASSWORD '********').
    forms.add(/^E?'([\s\S]*)'$/.exec(q)?.[1] ?? q);
  };
  forms.add(JSON.stringify(secret).slice(1, -1));
  forms.add(encodeURIComponent(secret));
  forms.add(encodeURIComponent(secret).replace(/%20/g, '+'));
  forms.add(secret.replace(/'/g, "''"));
  forms.add(secret.replace(/'/g, `'\\''`));
  for (const quote of [pgpassFilter, sqlLiteralFilter, shQuote, conninfoValue, confString]) addQuoted(quote);
  for (const f of htmlForms(secret)) forms.add(f);
  const bytes = Buffer.from(secret, 'utf8');
  const hex = bytes.toString('hex');
  forms.add(hex);
  forms.add(hex.toUpperCase());
  for (const f of base64Forms(bytes)) forms.add(f);
  return [...forms];
}

/** HTML/XML escaping as nunjucks autoescape and common libraries write it (&#39; / &apos; / &#x27;). */
function htmlForms(secret: string): string[] {
  if (!/[&<>"']/.test(secret)) return [];
  const out: string[] = [];
  for (const apos of ['&#39;', '&apos;', '&#x27;']) {
    for (const quot of ['&quot;', '&#34;']) {
      out.push(
        secret
          .replace(/&/g, '&amp;')
          .replace(/</g, '&lt;')
          .replace(/>/g, '&gt;')
          .replace(/"/g, quot)
          .replace(/'/g, apos),
      );
    }
  }
  return out;
}

/**
 * base64 and base64url: the secret's own encoding (with and without padding), and for each of the 3 byte
 * alignments the secret can have inside a larger blob, the run of characters that depend only on its bytes.
 */
function base64Forms(bytes: Buffer): string[] {
  const out: string[] = [];
  const own = bytes.toString('base64');
  out.push(own, own.replace(/=+$/, ''), bytes.toString('base64url'));
  for (let offset = 0; offset < 3; offset++) {
    const shifted = Buffer.concat([Buffer.alloc(offset), bytes])
      .toString('base64')
      .replace(/=+$/, '');
    // Character i holds bits 6i..6i+5; keep those that lie wholly inside the secret's bits.
    const core = shifted.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
    if (core.length < MIN_B64_CORE) continue;
    out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}
