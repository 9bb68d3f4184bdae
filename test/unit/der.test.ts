// The DER reader of server/src/der on its own: each primitive in strict mode (throws), recording mode (the
// deviation lands in a Sink, the value is still read) and tolerant mode, on hand-written encodings.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DerError, Sink, Tlv, parseOne, readBigInt, readBoolean, readIntegerBytes, readOid, readSmallInt, readText, readTime, readTlv,
} from '../../server/src/der';

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const strict = (h: string | Buffer) => parseOne(typeof h === 'string' ? hex(h) : h);
function recorded(h: string | Buffer): { t: Tlv; sink: Sink } {
  const sink = new Sink();
  return { t: parseOne(typeof h === 'string' ? hex(h) : h, sink), sink };
}
const tolerant = (h: string | Buffer) => readTlv(typeof h === 'string' ? hex(h) : h, 0);
const time = (tag: number, s: string) => Buffer.concat([Buffer.from([tag, s.length]), Buffer.from(s, 'latin1')]);
const utc = (s: string) => time(0x17, s);
const gen = (s: string) => time(0x18, s);
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

describe('times', () => {
  test('RFC 5280 forms, both types', () => {
    assert.equal(iso(readTime(strict(utc('250102030405Z')))), '2025-01-02T03:04:05.000Z');
    assert.equal(iso(readTime(strict(gen('20500102030405Z')))), '2050-01-02T03:04:05.000Z');
    assert.equal(iso(readTime(strict(gen('00010101000000Z')))), '0001-01-01T00:00:00.000Z');
  });
  test('the UTCTime century boundary: 50 is 1950, 49 is 2049', () => {
    assert.equal(iso(readTime(strict(utc('500101000000Z')))), '1950-01-01T00:00:00.000Z');
    assert.equal(iso(readTime(strict(utc('491231235959Z')))), '2049-12-31T23:59:59.000Z');
  });
  test('leap days: 29 February only in leap years', () => {
    assert.equal(iso(readTime(strict(utc('240229000000Z')))), '2024-02-29T00:00:00.000Z');
    assert.equal(iso(readTime(strict(gen('20000229000000Z')))), '2000-02-29T00:00:00.000Z');
    assert.throws(() => readTime(strict(gen('21000229000000Z'))), /day 29 is out of range/);
    assert.throws(() => readTime(strict(utc('250229000000Z'))), /day 29 is out of range/);
  });
  test('variants that still name one instant: refused strictly, recorded and read exactly otherwise', () => {
    const cases: [Buffer, string, RegExp][] = [
      [utc('2501020304Z'), '2025-01-02T03:04:00.000Z', /has no seconds/],
      [gen('20250102030405.123Z'), '2025-01-02T03:04:05.000Z', /fractional seconds/],
      [utc('250102030405+0130'), '2025-01-02T01:34:05.000Z', /offset instead of Z/],
      [gen('20250102030405-0200'), '2025-01-02T05:04:05.000Z', /offset instead of Z/],
      [utc('250102030405z'), '2025-01-02T03:04:05.000Z', /lower-case z/],
    ];
    for (const [der, want, why] of cases) {
      assert.throws(() => readTime(strict(der)), why);
      const { t, sink } = recorded(der);
      assert.equal(iso(readTime(t)), want);
      assert.match(sink.problems.map((p) => p.message).join(), why);
      assert.equal(iso(readTime(tolerant(der))), want);
    }
  });
  test('impossible dates throw in every mode, naming the field: never rolled over', () => {
    const cases: [Buffer, RegExp][] = [
      [utc('281301000000Z'), /month 13 is out of range/],
      [utc('280001000000Z'), /month 0 is out of range/],
      [utc('280230000000Z'), /day 30 is out of range/],
      [utc('280431000000Z'), /day 31 is out of range/],
      [utc('280100000000Z'), /day 0 is out of range/],
      [gen('20280101240000Z'), /hour 24 is out of range/],
      [utc('280101006000Z'), /minute 60 is out of range/],
      [utc('280101000060Z'), /second 60 is out of range/],
      [utc('280101000000+2400'), /offset \+2400 is out of range/],
    ];
    for (const [der, why] of cases) {
      assert.throws(() => readTime(strict(der)), why);
      assert.throws(() => readTime(recorded(der).t), why);
      assert.throws(() => readTime(tolerant(der)), why);
    }
  });
  test('not a time at all', () => {
    assert.throws(() => readTime(strict(utc('2501020304'))), /no time zone/);
    assert.throws(() => readTime(strict(utc('25-1-02030405Z'))), /is not a time/);
    assert.throws(() => readTime(strict(gen(''))), /is not a time/);
    assert.throws(() => readTime(strict('020100')), /expected UTCTime or GeneralizedTime/);
  });
});

describe('booleans', () => {
  test('00 and FF in every mode', () => {
    assert.equal(readBoolean(strict('0101ff')), true);
    assert.equal(readBoolean(strict('010100')), false);
  });
  test('other non-zero octets: refused strictly, true (as BER reads them) and recorded otherwise', () => {
    assert.throws(() => readBoolean(strict('010101')), /BOOLEAN octet 0x01/);
    const { t, sink } = recorded('010101');
    assert.equal(readBoolean(t), true);
    assert.equal(sink.problems.length, 1);
  });
  test('an empty or long BOOLEAN is never guessed', () => {
    for (const h of ['0100', '0102ffff']) {
      assert.throws(() => readBoolean(strict(h)), /BOOLEAN with \d content octets/);
      assert.throws(() => readBoolean(recorded(h).t), /BOOLEAN with \d content octets/);
      assert.throws(() => readBoolean(tolerant(h)), /BOOLEAN with \d content octets/);
    }
  });
});

describe('integers', () => {
  test('negative values are exact and signed', () => {
    assert.equal(readBigInt(strict('0201ff')), -1n);
    assert.equal(readBigInt(strict('020180')), -128n);
    assert.equal(readBigInt(strict('0202ff7f')), -129n);
    assert.equal(readBigInt(strict('02020080')), 128n);
    assert.throws(() => readSmallInt(strict('0201ff')), /negative value -1/);
  });
  test('huge values are exact', () => {
    const big = 2n ** 200n + 12345n;
    const body = Buffer.from(big.toString(16).padStart(52, '0'), 'hex');
    const der = Buffer.concat([Buffer.from([0x02, body.length]), body]);
    assert.equal(readBigInt(strict(der)), big);
    assert.throws(() => readSmallInt(strict(der)), new RegExp(`value ${big} is too large`));
    assert.equal(readSmallInt(strict('020500ffffffff')), 0xffffffff);
  });
  test('non-minimal encodings: refused strictly, recorded otherwise', () => {
    for (const h of ['0202007f', '0202ff80']) {
      assert.throws(() => readIntegerBytes(strict(h)), /non-minimal INTEGER/);
      const { t, sink } = recorded(h);
      assert.equal(readBigInt(t), h === '0202007f' ? 127n : -128n);
      assert.match(sink.problems[0].message, /non-minimal INTEGER/);
    }
  });
  test('an empty INTEGER', () => {
    assert.throws(() => readIntegerBytes(strict('0200')), /empty INTEGER/);
  });
});

describe('object identifiers', () => {
  test('ordinary and huge arcs are exact', () => {
    assert.equal(readOid(strict('06032a0304')), '1.2.3.4');
    assert.equal(readOid(strict('0603550403')), '2.5.4.3');
    // 2.999 (first octets combine 2*40+999 = 1079)
    assert.equal(readOid(strict('06028837')), '2.999');
    // 2^64 + 1 and 2^100 + 7: far beyond a double's exact range
    assert.equal(readOid(strict('060b2a82808080808080808001')), '1.2.18446744073709551617');
    assert.equal(readOid(strict('06102a848080808080808080808080808007')), '1.2.1267650600228229401496703205383');
  });
  test('malformed identifiers', () => {
    assert.throws(() => readOid(strict('0600')), /empty OBJECT IDENTIFIER/);
    assert.throws(() => readOid(strict('06022a83')), /truncated OBJECT IDENTIFIER/);
    assert.throws(() => readOid(strict('06032a8001')), /non-minimal OBJECT IDENTIFIER arc/);
    assert.equal(readOid(recorded('06032a8001').t), '1.2.1');
    assert.throws(() => readOid(strict(Buffer.concat([Buffer.from([0x06, 41, 0x2a]), Buffer.alloc(39, 0x81), Buffer.from([0x01])]))), /arc of 40 octets is too long/);
  });
});

describe('lengths', () => {
  test('short and long forms', () => {
    assert.equal(strict('0403616263').end, 5);
    const long = Buffer.concat([hex('048180'), Buffer.alloc(128)]);
    assert.equal(strict(long).end, 131);
  });
  test('non-minimal lengths: refused strictly, recorded otherwise', () => {
    for (const h of ['04810161', '0482000161']) {
      assert.throws(() => strict(h), /non-minimal length/);
      const { t, sink } = recorded(h);
      assert.equal(t.end - t.body, 1);
      assert.match(sink.problems[0].message, /non-minimal length/);
    }
  });
  test('indefinite, over-long and truncated lengths throw in every mode', () => {
    assert.throws(() => tolerant('30800000'), /indefinite length at offset 0 \(BER, not DER\)/);
    assert.throws(() => tolerant('0485010000000000'), /length field of 5 octets .* is too long/);
    assert.throws(() => tolerant('048401000000'), /claims 16777216 octets but only 0 remain/);
    assert.throws(() => tolerant('0482'), /truncated length/);
    assert.throws(() => tolerant('04'), /truncated element/);
    assert.throws(() => tolerant('1f0100'), /multi-byte tag/);
  });
  test('trailing bytes after the one element', () => {
    assert.throws(() => strict('0400ff'), /1 octets of trailing data/);
    assert.equal(tolerant('0400ff').end, 2);
  });
  test('every failure is a DerError with a message, not a JavaScript error', () => {
    for (const h of ['', '30', '3081', '300380', '0101', '06']) {
      try {
        readOid(strict(h));
      } catch (e) {
        assert.ok(e instanceof DerError, `${h}: ${(e as Error).message}`);
      }
    }
  });
});

describe('string types', () => {
  test('UTF8String, PrintableString, BMPString, UniversalString, TeletexString', () => {
    assert.equal(readText(strict(Buffer.concat([hex('0c05'), Buffer.from('héll', 'utf8')]))), 'héll');
    assert.equal(readText(strict('1303616263')), 'abc');
    assert.equal(readText(strict('1e0400e90041')), 'éA');
    assert.equal(readText(strict('1c080001f60000000041')), '\u{1f600}A');
    assert.equal(readText(strict('1401e9')), 'é');
  });
  test('octets above 0x7F in a 7-bit type are kept as octets strictly, read as UTF-8 tolerantly', () => {
    assert.equal(readText(strict('1302c3a9')), '\u00c3\u00a9');
    assert.equal(readText(tolerant('1302c3a9')), 'é');
  });
  test('a BMPString of odd length and UniversalString characters out of range', () => {
    assert.throws(() => readText(strict('1e0300e900')), /BMPString of odd length 3/);
    assert.throws(() => readText(strict('1c0300e900')), /UniversalString of length 3/);
    assert.throws(() => readText(strict('1c0400110000')), /U\+110000 is out of range/);
    assert.throws(() => readText(strict('1c040000d800')), /U\+D800 is out of range/);
  });
});
