// Pictures and layer outputs as POST /explain?compact=true sends them: one byte a value
// (base64), on a scale given with them. Decoded here, and painted on canvases through colour
// tables of 256 entries, so a 26x26 feature map costs 676 table look-ups and one putImageData.
//
//   unsigned bytes: value = byte / 255 * scale      signed bytes: value = byte / 127 * scale

// Canvas pixels are read as 32-bit words: their byte order is the machine's.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function word(r, g, b, a = 255) {
  const [r8, g8, b8] = [r, g, b].map((v) => Math.max(0, Math.min(255, Math.round(v))));
  return LITTLE_ENDIAN
    ? ((a << 24) | (b8 << 16) | (g8 << 8) | r8) >>> 0
    : ((r8 << 24) | (g8 << 16) | (b8 << 8) | a) >>> 0;
}

// A value in [-1, 1] -> [r, g, b]: dark for 0, amber towards 1, blue towards -1.
export function signedColour(t) {
  const a = Math.min(1, Math.abs(t));
  const [r, g, b] = t >= 0 ? [255, 190, 60] : [70, 150, 255];
  return [18 + a * (r - 18), 22 + a * (g - 22), 32 + a * (b - 32)];
}

function table(toColour) {
  const lut = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) lut[byte] = word(...toColour(byte));
  return lut;
}

const asSigned = (byte) => (byte << 24) >> 24; // two's complement: 255 -> -1

// The colour tables: grey pictures; signed and unsigned values relative to their scale; and
// the saliency, whose square root lifts the many small gradients into view.
export const LUT = {
  grey: table((byte) => [byte, byte, byte]),
  signed: table((byte) => signedColour(asSigned(byte) / 127)),
  unsigned: table((byte) => signedColour(byte / 255)),
  sqrtSigned: table((byte) => {
    const t = asSigned(byte) / 127;
    return signedColour(Math.sign(t) * Math.sqrt(Math.abs(t)));
  }),
};
export const EMPTY = word(255, 255, 255, 0); // a cell past the last value: transparent

// {shape, scale, signed, data} -> the same with `bytes`, a Uint8Array of the values.
export function unpack(packed) {
  const text = atob(packed.data);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return { shape: packed.shape, scale: packed.scale, signed: packed.signed, bytes };
}

// The value of byte `i` of an unpacked array.
export function valueAt(unpacked, i) {
  const byte = unpacked.bytes[i];
  return unpacked.signed
    ? (asSigned(byte) / 127) * unpacked.scale
    : (byte / 255) * unpacked.scale;
}

// Paint `width` x `height` cells of `canvas` from `bytes[offset...]` through `lut`; cells past
// `count` values are left transparent. The canvas is resized to match; CSS enlarges it.
export function paint(canvas, bytes, offset, width, height, lut, count = width * height) {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  const out = new Uint32Array(image.data.buffer);
  const n = Math.min(count, width * height);
  for (let i = 0; i < n; i++) out[i] = lut[bytes[offset + i]];
  out.fill(EMPTY, n);
  context.putImageData(image, 0, 0);
}

// A number for a colour scale: 3 significant digits, a true minus sign.
export function number(value) {
  const text = Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
  return text.replace("-", "−");
}
