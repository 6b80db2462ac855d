"""load_image, preprocess_digit and preprocess_image: pictures of digits -> MNIST-like vectors."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from barenet.data import load_image, load_mnist, preprocess_digit, preprocess_image
from barenet.errors import DataError, DataNotFoundError

needs_mnist = pytest.mark.mnist


@pytest.fixture(scope="module")
def digits():
    """The first 30 MNIST test digits, uint8 (30, 28, 28)."""
    return load_mnist(download=False)[2][:30]


def correlation(a, b):
    return np.corrcoef(np.ravel(a), np.ravel(b))[0, 1]


def best_shifted_correlation(result, digit):
    """Correlation allowing a one-pixel shift: centring rounds to whole pixels."""
    image = result.reshape(28, 28)
    shifts = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return max(correlation(np.roll(image, shift, axis=(0, 1)), digit) for shift in shifts)


def photo_of(digit, scale, fmt):
    """``digit`` resized by ``scale``, dark on light, off-centre in a 200x150 page, encoded."""
    size = round(28 * scale)
    ink = Image.fromarray(255 - digit).resize((size, size), Image.Resampling.LANCZOS)
    page = Image.new("L", (200, 150), 255)
    page.paste(ink, (130, 20))
    buffer = io.BytesIO()
    page.save(buffer, fmt)
    return buffer.getvalue()


@needs_mnist
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("scale", [1, 2])
def test_pasted_digits_come_back_close_to_the_original(digits, tmp_path, scale, fmt):
    plain, shifted = [], []
    for index, digit in enumerate(digits):
        path = tmp_path / f"digit{index}.{fmt.lower()}"
        path.write_bytes(photo_of(digit, scale, fmt))
        result = preprocess_image(path)
        assert result.shape == (784,) and result.dtype == np.float32
        assert result.min() == 0.0 and result.max() <= 1.0
        plain.append(correlation(result, digit))
        shifted.append(best_shifted_correlation(result, digit))
    # Measured: mean >= 0.96, worst shifted >= 0.90.
    assert np.mean(plain) > 0.93
    assert min(shifted) > 0.85


@needs_mnist
def test_an_mnist_digit_is_almost_unchanged(digits):
    results = [preprocess_digit(digit) for digit in digits]
    assert np.mean([correlation(r, d) for r, d in zip(results, digits, strict=True)]) > 0.98


@needs_mnist
def test_sources_path_bytes_and_file_object_agree(digits, tmp_path):
    data = photo_of(digits[0], 1, "PNG")
    path = tmp_path / "digit.png"
    path.write_bytes(data)
    from_path = preprocess_image(path)
    np.testing.assert_array_equal(preprocess_image(str(path)), from_path)
    np.testing.assert_array_equal(preprocess_image(data), from_path)
    np.testing.assert_array_equal(preprocess_image(io.BytesIO(data)), from_path)


def bar_image(height, width, top, left, light_background=True):
    """A 100x100 uint8 image with one solid rectangle of ink."""
    image = np.zeros((100, 100), np.uint8)
    image[top : top + height, left : left + width] = 255
    return 255 - image if light_background else image


def ink_box(result, level=0.5):
    rows, cols = np.nonzero(result.reshape(28, 28) > level)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def centre_of_mass(result):
    image = result.reshape(28, 28)
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


# Bars whose stroke (their width) is in the range of MNIST's strokes, or squares, which stay
# squares when their strokes are evened: a thick bar is thinned (see the next test).
@pytest.mark.parametrize(("height", "width"), [(40, 6), (10, 60), (5, 5), (80, 80)])
def test_larger_side_becomes_20_pixels_centred_at_14(height, width):
    result = preprocess_digit(bar_image(height, width, top=3, left=12))
    scale = 20 / max(height, width)
    assert ink_box(result) == (round(height * scale), round(width * scale))
    row, col = centre_of_mass(result)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5


def test_a_thick_bar_is_thinned_to_an_mnist_stroke_and_still_fills_the_box():
    # 40x10: as wide as a quarter of its height, where MNIST's strokes are 0.08-0.18 of it.
    result = preprocess_digit(bar_image(40, 10, top=3, left=12))
    height, width = ink_box(result)
    assert height == 20 and 2 <= width <= 3  # it was 5 wide before strokes were evened
    row, col = centre_of_mass(result)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5
    assert result.max() == 1.0


def test_dark_and_light_backgrounds_give_the_same_digit():
    dark_on_light = bar_image(30, 12, top=50, left=60)
    light_on_dark = bar_image(30, 12, top=50, left=60, light_background=False)
    np.testing.assert_allclose(
        preprocess_digit(dark_on_light), preprocess_digit(light_on_dark), atol=1e-6
    )


def test_uint8_and_float_inputs_agree():
    image = bar_image(30, 12, top=50, left=60)
    np.testing.assert_allclose(preprocess_digit(image), preprocess_digit(image / 255.0), atol=1e-6)


def test_grey_paper_and_faint_noise_are_ignored():
    rng = np.random.default_rng(0)
    clean = bar_image(30, 4, top=50, left=60) / 255.0  # a stroke as wide as MNIST's
    # Grey paper (0.9) with grain, grey ink (0.55) and faint specks far from the stroke.
    noisy = 0.55 + 0.35 * clean + rng.uniform(-0.02, 0.02, clean.shape)
    noisy[5, 5] = noisy[90, 95] = 0.87
    noisy[95, 5] = noisy[2, 90] = 0.83
    result, expected = preprocess_digit(noisy), preprocess_digit(clean)
    # A speck counted as ink would stretch the box far beyond the 30x4 bar scaled to 20x3.
    assert ink_box(result) == ink_box(expected) == (20, 3)
    assert best_shifted_correlation(result, expected.reshape(28, 28)) > 0.95


@pytest.mark.parametrize(
    "image",
    [np.full((30, 30), 255, np.uint8), np.zeros((30, 30)), np.full((9, 9), 0.5)],
)
def test_blank_image_raises(image):
    with pytest.raises(DataError, match="contains no digit"):
        preprocess_digit(image)


def test_blank_picture_file_raises():
    buffer = io.BytesIO()
    Image.new("L", (64, 64), 255).save(buffer, "PNG")
    with pytest.raises(DataError, match=r"no digit \(blank image\)"):
        preprocess_image(buffer.getvalue())


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        (np.zeros((4, 4, 3)), "2-D"),
        (np.zeros((0, 5)), "2-D"),
        (np.full((4, 4), 1.5), r"\[0, 1\]"),
        (np.full((4, 4), 300, np.int32), r"\[0, 255\]"),
        (np.full((4, 4), np.nan), r"\[0, 1\]"),
    ],
)
def test_wrong_arrays_raise(image, problem):
    with pytest.raises(DataError, match=problem):
        preprocess_digit(image)


def test_transparent_background_counts_as_white():
    rgba = np.zeros((60, 60, 4), np.uint8)  # transparent black everywhere
    rgba[10:50, 27:33] = (0, 0, 0, 255)  # an opaque black stroke
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    grey = load_image(buffer.getvalue())
    assert grey[0, 0] == 1.0 and grey[30, 30] == 0.0
    assert ink_box(preprocess_image(buffer.getvalue())) == (20, 3)


def test_non_images_and_damaged_images_raise(tmp_path):
    with pytest.raises(DataError, match="not an image"):
        load_image(b"this is plain text, not a picture")
    buffer = io.BytesIO()
    Image.fromarray(bar_image(30, 12, 50, 60)).save(buffer, "PNG")
    cut = tmp_path / "cut.png"
    cut.write_bytes(buffer.getvalue()[:-40])
    with pytest.raises(DataError, match="cut.png: corrupt"):
        load_image(cut)
    with pytest.raises(DataNotFoundError, match="absent.png"):
        load_image(tmp_path / "absent.png")


def png_header_only(width, height):
    """The start of a PNG that declares ``width x height`` grey pixels, without pixel data."""

    def chunk(kind, data):
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(bytes(1000))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(8000, 8000), (100_000, 100_000)])
def test_decompression_bombs_are_refused(size):
    with pytest.raises(DataError, match="decompression bomb"):
        load_image(png_header_only(*size))


def test_a_real_small_file_of_many_pixels_is_refused():
    buffer = io.BytesIO()
    Image.new("1", (9000, 5000), 1).save(buffer, "PNG")  # 45 megapixels in a few kB
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(DataError, match="9000x5000 pixels"):
        load_image(buffer.getvalue())


def test_photos_are_turned_upright_by_their_exif_orientation(tmp_path):
    # A phone stores a portrait photo as a landscape image plus the tag "rotate 90 degrees".
    upright = np.zeros((60, 40), np.uint8)
    upright[5:20, 5:35] = 255  # a bar near the top
    stored = Image.fromarray(np.rot90(upright))  # what the sensor wrote (turned left)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turn 90 degrees clockwise to view
    stored.save(tmp_path / "photo.jpg", exif=exif, quality=95)
    grey = load_image(tmp_path / "photo.jpg")
    assert grey.shape == (60, 40)
    assert grey[5:20, 5:35].mean() > 0.9 and grey[30:, :].mean() < 0.1


def sixteen_bit_png(pixels):
    """The bytes of a 16-bit greyscale PNG of ``pixels`` (uint16, 0-65535)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint16)).save(buffer, "PNG")
    assert Image.open(io.BytesIO(buffer.getvalue())).mode.startswith("I")  # 16 bits stored
    return buffer.getvalue()


def test_a_16_bit_greyscale_png_is_scaled_not_clipped():
    """Grey ink (30,000) on white paper (65,535): clipped to 8 bits, both would be 255."""
    pixels = np.full((60, 60), 65535)
    pixels[10:50, 28:32] = 30000
    grey = load_image(sixteen_bit_png(pixels))
    assert grey[0, 0] == 1.0 and grey[30, 30] == pytest.approx(30000 / 65535, abs=1 / 255)
    eight_bit = io.BytesIO()
    Image.fromarray(np.round(pixels / 257).astype(np.uint8)).save(eight_bit, "PNG")
    np.testing.assert_allclose(
        preprocess_image(sixteen_bit_png(pixels)), preprocess_image(eight_bit.getvalue()), atol=0.01
    )


def test_error_messages_are_in_our_own_words(tmp_path):
    """Not Pillow's ("cannot identify image file", its decompression-bomb limit and wording)."""
    with pytest.raises(DataError) as error:
        load_image(b"this is plain text, not a picture")
    assert "not an image file" in str(error.value) and "PNG, JPEG" in str(error.value)
    assert "Pillow" not in str(error.value) and "identify" not in str(error.value)
    with pytest.raises(DataError) as error:
        load_image(png_header_only(100_000, 100_000))
    assert "more than 40,000,000 pixels" in str(error.value)
    assert "DOS" not in str(error.value) and "could be" not in str(error.value)
    buffer = io.BytesIO()
    Image.fromarray(bar_image(30, 12, 50, 60)).save(buffer, "PNG")
    with pytest.raises(DataError) as error:
        load_image(buffer.getvalue()[:-40])
    assert "damaged or cut short" in str(error.value) and "Pillow" not in str(error.value)
