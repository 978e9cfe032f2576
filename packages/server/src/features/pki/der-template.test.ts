import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  children,
  DerError,
  idCertificateTbs,
  idCertificateTemplate,
  p1363ToDer,
  readElement,
  readOne,
} from './der-template.js';

// A signing certificate made by the authority (2026-01-01), and the TBSCertificate of an ID
// certificate for a fixed Ed25519 key, serial and validity, checked once with `openssl asn1parse`
// and against @peculiar/x509 (id-certificate-issuer.test.ts compares the two for fresh inputs).
const SIGNING_CERT = `MIIByTCCAXCgAwIBAgIQLfoHSixIW+oiYnZSMHvlyjAKBggqhkjOPQQDAjAuMRkw
FwYDVQQDExBzbWFydGxpYyByb290IENBMREwDwYDVQQKEwhzbWFydGxpYzAeFw0y
NTEyMzEyMzAwMDBaFw0yODEyMzEwMDAwMDBaMDgxIzAhBgNVBAMTGnNtYXJ0bGlj
IGF1dGhvcml0eSBzaWduaW5nMREwDwYDVQQKEwhzbWFydGxpYzBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABI9O7Ze7L2iH5Ox1s1NtDuuer+029GiEUpybxzIgr5Yx
uzmzrzUp5Elv70bT63Iqg8i8Abg3pkAgzyjhUJiuS3KjZjBkMBIGA1UdEwEB/wQI
MAYBAf8CAQAwDgYDVR0PAQH/BAQDAgGGMB0GA1UdDgQWBBQZef7K6PZmCYmLuNgL
t+qEj1cItDAfBgNVHSMEGDAWgBS0FqbkLxPwPemxLxPLMRM06sBpejAKBggqhkjO
PQQDAgNHADBEAiBTyauZWaJ5Yl+rxNKT5fuTP4nVBnyx4xSQ05qAQ5FTBwIgQYzr
UAo2KkwQ1aBCO0u4gH6CkV+RRTKBt8zbyzrXnqc=`;
const DEVICE_SPKI = '302a300506032b6570032100228c6ede2bae139cb16302645d75bc66c8dad509a7d701515494ade43bfe8021';
const TBS = [
  '30820192a00302010202101a2b3c4d5e6f708192a3b4c5d6e7f801300a06082a8648ce3d040302', // version 3, serial, ecdsa-with-SHA256
  '3038312330210603550403131a736d6172746c696320617574686f72697479207369676e696e67', // issuer CN=smartlic authority signing,
  '3111300f060355040a1308736d6172746c6963', // O=smartlic
  '3020170d3236303130313030303030305a180f32303531303130313030303030305a', // UTCTime 2026-01-01, GeneralizedTime 2051-01-01
  '306e312d302b0603550403132430303030303030302d303030302d343030302d383030302d303030303030303030303031', // CN
  '312630240603550405131d5049443a43393330302d3234555820534e3a464357323133344c30524e', // serialNumber PID:… SN:…
  '31153013060355040a130c61636d652e6578616d706c65', // O=acme.example
  DEVICE_SPKI,
  'a3753073300c0603551d130101ff04023000300e0603551d0f0101ff040403020780', // basicConstraints, keyUsage
  '30130603551d25040c300a06082b06010505070302', // extKeyUsage clientAuth
  '301d0603551d0e04160414d28fdce3b8b7a256ba281ee7e7dbb6d2da85f85d', // subjectKeyIdentifier
  '301f0603551d230418301680141979fecae8f66609898bb8d80bb7ea848f5708b4', // authorityKeyIdentifier = signing SKI
].join('');

const fields = {
  serialHex: '1a2b3c4d5e6f708192a3b4c5d6e7f801',
  notBefore: Date.UTC(2026, 0, 1),
  notAfter: Date.UTC(2051, 0, 1),
  commonName: '00000000-0000-4000-8000-000000000001',
  serialNumber: 'PID:C9300-24UX SN:FCW2134L0RN',
  organization: 'acme.example',
  spki: Buffer.from(DEVICE_SPKI, 'hex'),
};

describe('the ID certificate DER template', () => {
  const template = idCertificateTemplate(Buffer.from(SIGNING_CERT, 'base64'));

  it('writes a fixed vector', () => {
    expect(idCertificateTbs(template, fields).toString('hex')).toBe(TBS);
  });

  it('refuses serials, times and text it cannot write faithfully', () => {
    for (const serialHex of [`00${fields.serialHex.slice(2)}`, `8f${fields.serialHex.slice(2)}`, 'abcd']) {
      expect(() => idCertificateTbs(template, { ...fields, serialHex })).toThrow(DerError);
    }
    for (const notAfter of [fields.notAfter + 1, Number.NaN, Date.UTC(1949, 11, 31), Date.UTC(10_000, 0, 1)]) {
      expect(() => idCertificateTbs(template, { ...fields, notAfter })).toThrow(DerError);
    }
    expect(() => idCertificateTbs(template, { ...fields, organization: 'a\uD800b' })).toThrow(DerError);
  });

  it('reads strict DER only', () => {
    const cases: Record<string, number[]> = {
      truncated: [0x30],
      'length past the end': [0x30, 0x02, 0x00],
      indefinite: [0x30, 0x80, 0, 0],
      'padded length': [0x30, 0x81, 0x01, 0x00],
      'leading zero in a long length': [0x30, 0x82, 0x00, 0x80],
      'high tag number': [0x1f, 0x01, 0x00],
    };
    for (const [name, bytes] of Object.entries(cases)) {
      expect(() => readElement(Buffer.from(bytes), 0), name).toThrow(DerError);
    }
    expect(readElement(Buffer.from([0x04, 0x81, 0x80, ...new Array(0x80).fill(0)]), 0)).toEqual({
      tag: 0x04,
      offset: 0,
      start: 3,
      end: 0x83,
    });
  });
});

describe('ES256 signatures from P1363 to DER', () => {
  /** r ‖ s, each left-padded to 32 bytes, of a DER signature node wrote. */
  function p1363Of(derSignature: Buffer): Buffer {
    const [r, s] = children(derSignature, readOne(derSignature, 0x30)).map((e) => {
      const bytes = derSignature.subarray(e.start, e.end);
      const unsigned = bytes[0] === 0 && bytes.length > 1 ? bytes.subarray(1) : bytes;
      return Buffer.concat([Buffer.alloc(32 - unsigned.length), unsigned]);
    });
    return Buffer.concat([r!, s!]);
  }

  it('writes what node writes, for 4,000 signatures (high bits and leading zeros among them)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    let shortIntegers = 0;
    for (let i = 0; i < 4_000; i++) {
      const data = Buffer.from(`message ${i}`);
      const theirs = sign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
      if (theirs.length < 70) shortIntegers++;
      const mine = p1363ToDer(p1363Of(theirs));
      expect(mine?.toString('hex')).toBe(theirs.toString('hex'));
      const p1363 = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      expect(verify('sha256', data, publicKey, p1363ToDer(p1363)!)).toBe(true);
    }
    // A leading zero byte in r or s (one signature in ~128) makes it shorter than 70 bytes: that branch ran.
    expect(shortIntegers).toBeGreaterThan(0);
  });

  it('encodes edge values minimally, and refuses any length but 64', () => {
    const zero = Buffer.alloc(64);
    expect(p1363ToDer(zero)?.toString('hex')).toBe('3006020100020100');
    const high = Buffer.alloc(64, 0xff);
    expect(p1363ToDer(high)?.toString('hex')).toBe(`3046022100${'ff'.repeat(32)}022100${'ff'.repeat(32)}`);
    const small = Buffer.alloc(64);
    small[31] = 0x7f;
    small[62] = 0x80;
    expect(p1363ToDer(small)?.toString('hex')).toBe('30080201 7f0203008000'.replace(' ', ''));
    for (const n of [0, 1, 63, 65, 72]) expect(p1363ToDer(Buffer.alloc(n, 1))).toBeUndefined();
  });
});
