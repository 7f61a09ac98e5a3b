// The checksum POSIX cksum(1) prints (CRC-32, polynomial 0x04C11DB7, MSB first, the length appended): pg_make_replica
// names its lock and rebuild record by the cksum of the data directory, and orch computes it for the rendered path so
// the host runs no cksum pipeline for it. Pure.

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** What `printf '%s' TEXT | cksum` prints first for the UTF-8 bytes of `text`. */
export function posixCksum(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  let crc = 0;
  const add = (b: number): void => {
    crc = ((crc << 8) ^ TABLE[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  };
  for (const b of bytes) add(b);
  for (let n = bytes.length; n > 0; n = Math.floor(n / 256)) add(n & 0xff);
  return ~crc >>> 0;
}
