"""The share poster: valid PNGs, CJK text that is really drawn, and layout helpers that never overflow."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from fissionmall.sharing.poster import (
    PosterContent,
    cjk_font,
    content_key,
    cover_crop,
    format_price,
    render_poster_png,
    render_qr_png,
    wrap_text,
)
from fissionmall.sharing.targets import PosterFacts

pytestmark = pytest.mark.backend_free

LONG_TITLE = "云南小粒咖啡豆 中度烘焙 500g 新鲜现烘 手冲意式通用 degassing valve 密封罐装 送手冲滤纸"


def _open_png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


LINK = "http://127.0.0.1:8000/s/abc123XYZ0123456789"


def _content(image_path: Path | None, sharer_name: str = "小明", link: str = LINK,
             **facts: object) -> PosterContent:
    values: dict[str, object] = {"title": LONG_TITLE, "price_fen": 5990, "list_price_fen": 8900}
    values.update(facts)
    return PosterContent(facts=PosterFacts(**values), sharer_name=sharer_name,  # type: ignore[arg-type]
                         link=link, image_path=image_path)


@pytest.fixture
def product_image(tmp_path: Path) -> Path:
    path = tmp_path / "product.jpg"
    Image.new("RGB", (1200, 800), "#3a7bd5").save(path)
    return path


@pytest.mark.parametrize(
    ("fen", "shown"), [(1, "¥0.01"), (99, "¥0.99"), (100, "¥1.00"), (123456, "¥1234.56"), (0, "¥0.00")],
)
def test_price_is_formatted_from_integer_fen(fen: int, shown: str) -> None:
    assert format_price(fen) == shown


def test_negative_price_is_refused() -> None:
    with pytest.raises(ValueError):
        format_price(-1)


def test_poster_is_a_750x1200_png(product_image: Path) -> None:
    poster = _open_png(render_poster_png(_content(product_image))).convert("RGB")
    assert poster.size == (750, 1200)
    assert poster.getpixel((375, 375)) == pytest.approx((0x3A, 0x7B, 0xD5), abs=3)  # the product image on top
    assert (0xE4, 0x39, 0x3C) in {color for _, color in poster.getcolors(750 * 1200) or []}  # the red price


@pytest.mark.parametrize("broken", ["missing", "garbage", "none"])
def test_missing_or_unreadable_image_falls_back_to_placeholder(tmp_path: Path, broken: str) -> None:
    path = {"missing": tmp_path / "nope.jpg", "garbage": tmp_path / "bad.jpg", "none": None}[broken]
    if broken == "garbage":
        path.write_bytes(b"not an image at all")  # type: ignore[union-attr]
    poster = _open_png(render_poster_png(_content(path))).convert("RGB")
    assert poster.size == (750, 1200)
    assert poster.getpixel((20, 20)) == (0xF2, 0xF2, 0xF2)


def test_poster_without_discount_and_with_odd_inputs_still_renders(product_image: Path) -> None:
    content = _content(
        product_image, title="", price_fen=1234567899, list_price_fen=100, sharer_name=" ",
        link="http://127.0.0.1:8000/s/" + "x" * 300, tagline="很长的宣传语" * 20,
    )
    assert _open_png(render_poster_png(content)).size == (750, 1200)
    assert _open_png(render_poster_png(_content(product_image, tagline="", list_price_fen=None))).size == (
        750, 1200,
    )


def test_qr_png_is_valid_and_grows_with_the_link() -> None:
    short = _open_png(render_qr_png("http://a.cn/s/1"))
    long = _open_png(render_qr_png("http://127.0.0.1:8000/s/" + "abc123XYZ0" * 12))
    assert short.width == short.height
    assert long.width > short.width
    assert _open_png(render_qr_png("http://a.cn/s/1", box_size=4)).width * 2 == short.width


def test_long_chinese_title_wraps_into_two_lines_with_ellipsis() -> None:
    font, width = cjk_font(34), 400
    lines = wrap_text(LONG_TITLE, font, width)
    assert len(lines) == 2
    assert all(font.getlength(line) <= width for line in lines)
    assert lines[-1].endswith("…")
    assert LONG_TITLE.startswith(lines[0])
    assert LONG_TITLE[len(lines[0]):].lstrip().startswith(lines[1][:-1])  # nothing skipped between lines


def test_wrapping_breaks_between_chinese_characters_but_keeps_words_whole() -> None:
    font = cjk_font(34)
    five = font.getlength("拼团拼团拼")
    assert wrap_text("拼团拼团拼团拼团拼团", font, five) == ["拼团拼团拼", "团拼团拼团"]
    assert wrap_text("拼团拼团拼团拼团拼团拼团", font, five) == ["拼团拼团拼", "团拼团拼…"]
    assert wrap_text("中度烘焙 500g", font, font.getlength("中度烘焙 50")) == ["中度烘焙", "500g"]


def test_short_title_is_untouched() -> None:
    assert wrap_text("咖啡豆", cjk_font(34), 400) == ["咖啡豆"]
    assert wrap_text("", cjk_font(34), 400) == []


def test_cjk_glyphs_are_real_not_tofu() -> None:
    font = cjk_font(40)
    pin, tuan = font.getmask("拼"), font.getmask("团")
    tofu = font.getmask("\U0010fffd")  # unassigned in the font: drawn as .notdef
    assert pin.getbbox() and tuan.getbbox()
    assert bytes(pin) != bytes(tuan)
    assert bytes(pin) != bytes(tofu) and bytes(tuan) != bytes(tofu)


def test_font_is_loaded_once_per_size() -> None:
    assert cjk_font(30) is cjk_font(30)


@pytest.mark.parametrize("size", [(1200, 800), (600, 1000), (750, 750)])
def test_cover_crop_fills_the_square(size: tuple[int, int]) -> None:
    image = Image.new("RGB", size, "red")
    cropped = cover_crop(image, (750, 750))
    assert cropped.size == (750, 750)
    assert cropped.getpixel((0, 0)) == (255, 0, 0) and cropped.getpixel((749, 749)) == (255, 0, 0)


def test_transparent_product_image_sits_on_white(tmp_path: Path) -> None:
    path = tmp_path / "cutout.png"
    Image.new("RGBA", (500, 500), (0, 0, 0, 0)).save(path)
    poster = _open_png(render_poster_png(_content(path))).convert("RGB")
    assert poster.getpixel((375, 375)) == (255, 255, 255)


RED = (0xE4, 0x39, 0x3C)
CAMPAIGN = {"badge": "3 人团", "status": "3 人团 · 还差 1 人", "progress_percent": 66,
            "details": ("付款才算入团，未成团自动全额退款",)}
SHOW_OFF = {"hero": "省了 ¥35.00", "hero_note": "我在某某小店", "sharer_says": "的晒单",
            "details": ("拼团价 省 ¥20.00 · 优惠券 省 ¥15.00",)}


def _colours(image: Image.Image, box: tuple[int, int, int, int]) -> set[tuple[int, int, int]]:
    return {colour for _, colour in image.crop(box).getcolors(750 * 1200) or []}


@pytest.mark.parametrize("kind", ["campaign", "show_off_with_picture", "show_off_without_picture", "bare"])
def test_every_kind_of_poster_renders(product_image: Path, kind: str) -> None:
    """One drawing for every kind: a campaign's picture with its tag, status and progress bar; a show-off card's
    red panel (with the product framed when it has one); a poster with no facts but a title."""
    facts: dict[str, object] = {
        "campaign": CAMPAIGN, "show_off_with_picture": SHOW_OFF,
        "show_off_without_picture": {**SHOW_OFF, "price_fen": None}, "bare": {"price_fen": None},
    }[kind]
    picture = None if kind == "show_off_without_picture" else product_image
    image = _open_png(render_poster_png(_content(picture, **facts))).convert("RGB")
    assert image.size == (750, 1200)
    top = image.getpixel((375, 20))
    if kind.startswith("show_off"):
        assert top[0] > 0xB0 and top[1] < 0x60, "a red panel across the top"
        assert image.getpixel((375, 390)) == (
            pytest.approx((0x3A, 0x7B, 0xD5), abs=4) if picture else pytest.approx(image.getpixel((375, 390))))
    else:
        assert top == pytest.approx((0x3A, 0x7B, 0xD5), abs=3)
    if kind == "campaign":
        assert RED in _colours(image, (40, 40, 200, 92)), "the red tag on the picture"
        assert RED in _colours(image, (40, 700, 710, 930)), "the progress bar"


def test_the_progress_bar_fills_with_progress(product_image: Path) -> None:
    def red_width(percent: int) -> int:
        image = _open_png(render_poster_png(_content(product_image, **{**CAMPAIGN, "progress_percent": percent})))
        row = image.convert("RGB")
        bar_y = next(y for y in range(700, 940) if row.getpixel((600, y)) in (RED, (0xF9, 0xD6, 0xD7)))
        return sum(1 for x in range(60, 640) if row.getpixel((x, bar_y + 4)) == RED)

    assert red_width(0) < red_width(30) < red_width(66) < red_width(100)


@pytest.mark.parametrize("change", [
    {"status": "3 人团 · 还差 2 人"}, {"progress_percent": 33}, {"price_fen": 5980}, {"hero": "拼团成功"},
    {"details": ()}, {"badge": "2 人团"}, {"sharer_name": "小红"}, {"link": LINK + "x"}, {"tagline": "帮我砍一刀"},
])
def test_the_key_changes_with_anything_shown(product_image: Path, change: dict[str, object]) -> None:
    assert content_key(_content(product_image, **CAMPAIGN)) == content_key(_content(product_image, **CAMPAIGN))
    assert content_key(_content(product_image, **{**CAMPAIGN, **change})) != content_key(
        _content(product_image, **CAMPAIGN))
