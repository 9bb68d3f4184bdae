/**
 * Turns the bytes of a file into the text the scanner reads. The language
 * server receives decoded text from the editor; the CLI reads files itself
 * and must decode them the same way the editor would.
 */

/** Decodes file bytes: UTF-8 (with or without BOM) and UTF-16 LE/BE with a BOM; the BOM is dropped. */
export function decodeFileBytes(buf: Uint8Array): string {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return b.toString('utf8', 3);
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return b.toString('utf16le', 2);
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return swap16(b.subarray(2)).toString('utf16le');
  // PowerShell and Notepad sometimes write UTF-16 without a BOM; PEM is ASCII,
  // so a zero in every other byte of the first line gives it away.
  if (b.length >= 4 && b[1] === 0 && b[3] === 0 && b[0] !== 0) return b.toString('utf16le');
  if (b.length >= 4 && b[0] === 0 && b[2] === 0 && b[1] !== 0) return swap16(b).toString('utf16le');
  return b.toString('utf8');
}

function swap16(b: Buffer): Buffer {
  const copy = Buffer.from(b.subarray(0, b.length - (b.length % 2)));
  return copy.swap16();
}
