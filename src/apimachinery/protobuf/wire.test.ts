import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoReader, ProtobufDecodeError, WireType } from './wire.js';

const r = (...bytes: number[]) => new ProtoReader(Uint8Array.from(bytes));

test('varints: small, multi-byte, 64-bit and negative int32', () => {
  assert.equal(r(0x00).uint53(), 0);
  assert.equal(r(0x96, 0x01).uint53(), 150);
  assert.equal(r(0xff, 0xff, 0xff, 0xff, 0x0f).uint32(), 0xffff_ffff);
  // -1 as int32/int64 is ten bytes on the wire.
  const minusOne = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
  assert.equal(r(...minusOne).int32(), -1);
  assert.equal(r(...minusOne).int64(), -1n);
  assert.equal(r(...minusOne).int64Number(), -1);
  assert.equal(r(...minusOne).uint64(), 0xffff_ffff_ffff_ffffn);
  // 2^53 + 1 is exact as a bigint.
  const big = [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
  assert.equal(r(...big).uint64(), 2n ** 53n + 1n);
  // 1700000000 (a Unix time) and 2^35.
  assert.equal(r(0x80, 0xe2, 0xcf, 0xaa, 0x06).int64Number(), 1_700_000_000);
  assert.equal(r(0x80, 0x80, 0x80, 0x80, 0x80, 0x01).int64Number(), 2 ** 35);
  assert.equal(r(0x01).bool(), true);
  assert.equal(r(0x00).bool(), false);
  assert.equal(r(0x03).sint32(), -2);
  assert.equal(r(0x04).sint64(), 2n);
});

test('fixed32/64, float, double', () => {
  assert.equal(r(0x78, 0x56, 0x34, 0x12).fixed32(), 0x12345678);
  assert.equal(r(0xff, 0xff, 0xff, 0xff).sfixed32(), -1);
  assert.equal(r(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff).sfixed64(), -1n);
  assert.equal(r(1, 0, 0, 0, 0, 0, 0, 0x80).fixed64(), 0x8000_0000_0000_0001n);
  const d = Buffer.alloc(8);
  d.writeDoubleLE(1.5);
  assert.equal(new ProtoReader(d).double(), 1.5);
  const f = Buffer.alloc(4);
  f.writeFloatLE(-0.25);
  assert.equal(new ProtoReader(f).float(), -0.25);
});

test('keys, strings, sub-readers', () => {
  const rd = r(0x0a, 0x03, 0x61, 0x62, 0x63, 0x12, 0x02, 0x08, 0x07);
  assert.deepEqual(rd.key(), { field: 1, wireType: WireType.LengthDelimited });
  assert.equal(rd.string(), 'abc');
  assert.deepEqual(rd.key(), { field: 2, wireType: WireType.LengthDelimited });
  const sub = rd.sub();
  assert.ok(rd.eof());
  assert.deepEqual(sub.key(), { field: 1, wireType: WireType.Varint });
  assert.equal(sub.uint32(), 7);
  assert.ok(sub.eof());
});

test('skip: every wire type, nested groups', () => {
  // field 1 varint, 2 fixed64, 3 bytes, 4 fixed32, 5 group{6 varint, 7 group{}}, then field 9 varint 42
  const rd = r(
    0x08, 0x96, 0x01,
    0x11, 1, 2, 3, 4, 5, 6, 7, 8,
    0x1a, 0x02, 0xaa, 0xbb,
    0x25, 1, 2, 3, 4,
    0x2b, 0x30, 0x01, 0x3b, 0x3c, 0x2c,
    0x48, 0x2a,
  );
  for (;;) {
    const k = rd.key();
    if (k.field === 9) {
      assert.equal(rd.uint32(), 42);
      break;
    }
    rd.skip(k.wireType, k.field);
  }
  assert.ok(rd.eof());
});

test('malformed input throws ProtobufDecodeError (400)', () => {
  const bad: Array<() => unknown> = [
    () => r(0x96).uint53(), // truncated varint
    () => r(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01).uint64(), // 11 bytes
    () => r(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02).uint64(), // > 64 bits
    () => r(0x0a, 0x05, 0x61).string(), // length past the end
    () => r(0x00).key(), // field 0
    () => r(0x0e).key(), // wire type 6
    () => r(1, 2, 3).fixed32(),
    () => r(1, 2, 3, 4, 5, 6, 7).double(),
    () => { const x = r(0x0b, 0x10, 0x01); const k = x.key(); x.skip(k.wireType, k.field); }, // unterminated group
    () => { const x = r(0x0b, 0x14); const k = x.key(); x.skip(k.wireType, k.field); }, // mismatched end group
    () => { const x = r(0x0c); const k = x.key(); x.skip(k.wireType, k.field); }, // stray end group
  ];
  for (const f of bad) {
    assert.throws(f, (e: unknown) => {
      assert.ok(e instanceof ProtobufDecodeError, String(e));
      assert.equal(e.code, 400);
      assert.equal(e.reason, 'BadRequest');
      assert.match(e.message, /^protobuf: /);
      return true;
    });
  }
});
