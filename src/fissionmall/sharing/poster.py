"""Share posters and QR codes, rendered to PNG bytes (pure Pillow: no database, no web), and posters kept on
disk by what they show."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont, ImageOps

from fissionmall.core.money import yuan

__all__ = [
    "PosterContent", "cached_poster", "cjk_font", "content_key", "cover_crop", "format_price", "render_poster_png",
    "render_qr_png", "wrap_text",
]

WIDTH, HEIGHT = 750, 1200
PAD = 40
QR_SIZE = 220
RED = "#e4393c"
INK = "#222222"
TEXT = "#555555"
MUTED = "#999999"
PLACEHOLDER = "#f2f2f2"
ELLIPSIS = "…"
_FONT_PACKAGE = "cvttf_NotoSansCJK_Regular"
_UNBREAKABLE = re.compile(r"[0-9A-Za-z.,%+\-]+|.")
LAYOUT_VERSION = 1
"""Part of every poster's key: raise it when the drawing changes, so posters kept on disk are drawn anew."""


@dataclass(frozen=True)
class PosterContent:
    title: str
    price_fen: int | None
    """None for shares without a price (an invite page): the price row is left out."""
    original_price_fen: int | None
    sharer_name: str
    link: str
    image_path: Path | None
    tagline: str = "长按识别二维码，和我一起买"


def format_price(fen: int) -> str:
    """Money stays integer fen everywhere; only the poster turns it into yuan."""
    if fen < 0:
        raise ValueError(f"price must not be negative: {fen}")
    return f"¥{yuan(fen)}"


@lru_cache(maxsize=1)
def _font_path() -> str:
    """The Noto CJK font ships inside a PyPI package, so look it up there rather than on the system."""
    for entry in resources.files(_FONT_PACKAGE).iterdir():
        if entry.name.lower().endswith((".otf", ".ttf", ".ttc")):
            return str(entry)
    raise FileNotFoundError(f"no font file in package {_FONT_PACKAGE}")


@lru_cache(maxsize=32)
def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    """Parsing the 16 MB font is slow, so each size is loaded once per process."""
    return ImageFont.truetype(_font_path(), size)


def cover_crop(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Fill the box completely, cropping the overflow around the centre, like CSS `object-fit: cover`."""
    return ImageOps.fit(image, size, method=Image.Resampling.LANCZOS, centering=(0.5, 0.5))


def _tokens(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Break anywhere in Chinese, but keep Latin words and numbers like "500g" whole unless too long."""
    tokens: list[str] = []
    for token in _UNBREAKABLE.findall(" ".join(text.split())):
        tokens.extend(list(token) if font.getlength(token) > max_width else [token])
    return tokens


def wrap_text(text: str, font: ImageFont.FreeTypeFont, max_width: float, max_lines: int = 2) -> list[str]:
    """Wrap per character (Chinese has no spaces); text past `max_lines` ends the last line with "…"."""
    lines: list[str] = []
    current = ""
    for token in _tokens(text, font, max_width):
        if current.strip() and font.getlength(current + token) > max_width:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current += token
    if current:
        lines.append(current)
    if len(lines) <= max_lines:
        return lines
    last = lines[max_lines - 1]
    while last and font.getlength(last.rstrip() + ELLIPSIS) > max_width:
        last = last[:-1]
    return [*lines[: max_lines - 1], last.rstrip() + ELLIPSIS]


def _one_line(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> str:
    return (wrap_text(text, font, max_width, max_lines=1) or [""])[0]


def _qr_image(link: str, box_size: int) -> Image.Image:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=2)
    qr.add_data(link)
    qr.make(fit=True)
    image: Image.Image = qr.make_image(fill_color="black", back_color="white").get_image()
    return image.convert("RGB")


def _qr_fitting(link: str, target: int) -> Image.Image:
    """Whole-pixel modules stay crisp and scannable, so pick the box size instead of resampling."""
    probe = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    probe.add_data(link)
    probe.make(fit=True)
    return _qr_image(link, max(1, round(target / (probe.modules_count + 4))))


def render_qr_png(link: str, *, box_size: int = 8) -> bytes:
    """A plain QR code of the share link, for clients that draw their own poster."""
    return _png(_qr_image(link, box_size))


def _product_image(path: Path | None, size: int) -> Image.Image:
    """A missing or broken product image must not break sharing: fall back to a neutral block."""
    try:
        if path is None:
            raise FileNotFoundError
        with Image.open(path) as opened:
            opened.draft("RGB", (size, size))  # a large JPEG (an upload from before they were scaled) decodes small
            image = ImageOps.exif_transpose(opened).convert("RGBA")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return _placeholder(size)
    flat = Image.new("RGBA", image.size, "white")
    flat.alpha_composite(image)  # transparent PNGs would otherwise turn black
    return cover_crop(flat.convert("RGB"), (size, size))


def _placeholder(size: int) -> Image.Image:
    block = Image.new("RGB", (size, size), PLACEHOLDER)
    ImageDraw.Draw(block).text((size / 2, size / 2), "暂无图片", fill="#c8c8c8", font=cjk_font(36), anchor="mm")
    return block


def _draw_price(draw: ImageDraw.ImageDraw, content: PosterContent, baseline: int) -> None:
    """JD/Pinduoduo style: a small ¥ and cents around big yuan, then the struck-through original price."""
    if content.price_fen is None:
        return
    yuan, cents = format_price(content.price_fen)[1:].split(".")
    original = content.original_price_fen
    struck = format_price(original) if original is not None and original > content.price_fen else None
    for big in range(84, 40, -4):  # shrink for very large prices so the row never overflows
        parts = [("¥", cjk_font(big // 2)), (yuan, cjk_font(big)), (f".{cents}", cjk_font(big * 11 // 20))]
        width = sum(font.getlength(part) for part, font in parts)
        if struck:
            width += 20 + cjk_font(30).getlength(struck)
        if width <= WIDTH - 2 * PAD:
            break
    x = float(PAD)
    for part, font in parts:
        draw.text((x, baseline), part, fill=RED, font=font, anchor="ls", stroke_width=1, stroke_fill=RED)
        x += font.getlength(part) + 2
    if struck:
        left, top, right, bottom = draw.textbbox((x + 18, baseline), struck, font=cjk_font(30), anchor="ls")
        draw.text((left, baseline), struck, fill=MUTED, font=cjk_font(30), anchor="ls")
        middle = (top + bottom) // 2 + 1
        draw.line([(left - 2, middle), (right + 2, middle)], fill=MUTED, width=2)


def _draw_sharer(poster: Image.Image, draw: ImageDraw.ImageDraw, name: str, top: int, max_width: int) -> None:
    """A round initial stands in for the avatar, which the poster renderer never downloads."""
    name = name.strip() or "好友"
    avatar = 56
    disc = Image.new("L", (avatar * 4, avatar * 4), 0)
    ImageDraw.Draw(disc).ellipse((0, 0, avatar * 4 - 1, avatar * 4 - 1), fill=255)
    poster.paste(RED, (PAD, top, PAD + avatar, top + avatar), disc.resize((avatar, avatar), Image.Resampling.LANCZOS))
    draw.text((PAD + avatar / 2, top + avatar / 2), name[0], fill="white", font=cjk_font(28), anchor="mm")
    suffix = " 推荐给你"
    font = cjk_font(28)
    text_x = PAD + avatar + 16
    shown = _one_line(name, font, max_width - (text_x - PAD) - font.getlength(suffix))
    draw.text((text_x, top + avatar / 2), shown, fill=INK, font=font, anchor="lm", stroke_width=1, stroke_fill=INK)
    draw.text((text_x + font.getlength(shown), top + avatar / 2), suffix, fill=TEXT, font=font, anchor="lm")


def render_poster_png(content: PosterContent) -> bytes:
    """The 750×1200 share poster users save and forward: image, title, price, sharer, and QR to scan."""
    poster = Image.new("RGB", (WIDTH, HEIGHT), "white")
    poster.paste(_product_image(content.image_path, WIDTH), (0, 0))
    draw = ImageDraw.Draw(poster)

    _draw_price(draw, content, baseline=WIDTH + 104)

    qr = _qr_fitting(content.link, QR_SIZE)
    qr_x, qr_y = WIDTH - PAD - qr.width, HEIGHT - PAD - qr.height
    poster.paste(qr, (qr_x, qr_y))
    column = qr_x - 32 - PAD  # the text column to the left of the QR code

    title_font = cjk_font(34)
    for row, line in enumerate(wrap_text(content.title, title_font, column)):
        draw.text((PAD, WIDTH + 136 + row * 50), line, fill=INK, font=title_font)

    _draw_sharer(poster, draw, content.sharer_name, top=HEIGHT - PAD - 118, max_width=column)
    tagline = _one_line(content.tagline, cjk_font(24), column)
    draw.text((PAD, HEIGHT - PAD), tagline, fill=MUTED, font=cjk_font(24), anchor="ld")
    return _png(poster)


def content_key(content: PosterContent) -> str:
    """A hash of everything a poster shows: its text, price and link, and the product image file by name, size
    and modification time. Two posters with the same key are the same picture."""
    image = content.image_path
    stat = image.stat() if image is not None and image.is_file() else None
    drawn = {"layout": LAYOUT_VERSION, "title": content.title, "price": content.price_fen,
             "original": content.original_price_fen, "sharer": content.sharer_name, "link": content.link,
             "tagline": content.tagline,
             "image": [str(image), stat.st_size, stat.st_mtime_ns] if image is not None and stat else None}
    return hashlib.sha256(json.dumps(drawn, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


def cached_poster(folder: Path, content: PosterContent) -> tuple[str, Path]:
    """The poster's key and its file under `folder`, rendered only when no poster with that key was kept: an
    unchanged share is served without drawing, a changed one (price, title, image …) gets a key of its own.
    Written under a temporary name and renamed, so a reader never sees half a file and racing renders agree."""
    key = content_key(content)
    path = folder / f"{key}.png"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(render_poster_png(content))
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    return key, path


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
