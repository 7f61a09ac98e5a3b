// Text from a host reaches the admin's terminal as text, never as terminal commands. A host (or anyone who can write
// a file orch prints) could otherwise send escape sequences that retitle the window, move the cursor to overwrite
// earlier lines, hide text, or reach terminal-emulator bugs; a bare carriage return or a bidi override can make a
// line read differently from what it holds. Colours (SGR) stay, so a command's coloured output and orch's own
// palette still show.

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const SGR = /^\u001b\[[0-9;:]*m/;
// C0 controls except TAB and LF, DEL, C1 controls, and the Unicode bidi embeddings/overrides/isolates.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function shown(ch: string): string {
  const code = ch.codePointAt(0)!;
  if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
  if (code === 0x7f) return '^?';
  return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/** `text` with every control a terminal would act on shown in caret or <U+XXXX> form; SGR colours and CRLF kept. */
export function terminalSafe(text: string): string {
  if (!UNSAFE.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\u001b') {
      const sgr = SGR.exec(text.slice(i, i + 64));
      if (sgr) {
        out += sgr[0];
        i += sgr[0].length - 1;
        continue;
      }
    }
    if (ch === '\r' && text[i + 1] === '\n') {
      out += ch;
      continue;
    }
    out += UNSAFE.test(ch) ? shown(ch) : ch;
  }
  return out;
}
