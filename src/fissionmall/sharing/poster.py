"""Share posters and QR codes, rendered to PNG bytes (pure Pillow: no database, no web), and posters kept on
disk by what they show."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont, ImageOps

from fissionmall.core.money import yuan
from fissionmall.sharing.targets import PosterFacts

__all__ = [
    "PosterContent", "cached_poster", "cjk_font", "content_key", "cover_crop", "format_price", "render_poster_png",
    "render_qr_png", "wrap_text",
]

WIDTH, HEIGHT = 750, 1200
PAD = 40
QR_SIZE = 200
PICTURE_HEIGHT = 560
"""The product image (or a show-off card's red panel) across the top."""
RED = "#e4393c"
DEEP_RED = "#b8141d"
INK = "#222222"
TEXT = "#555555"
MUTED = "#999999"
PLACEHOLDER = "#f2f2f2"
PANEL = "#fff3f3"
TRACK = "#f9d6d7"
ELLIPSIS = "…"
_FONT_PACKAGE = "cvttf_NotoSansCJK_Regular"
_UNBREAKABLE = re.compile(r"[0-9A-Za-z.,%+\-]+|.")
LAYOUT_VERSION = 2
"""Part of every poster's key: raise it when the drawing changes, so posters kept on disk are drawn anew."""


@dataclass(frozen=True)
class PosterContent:
    """A poster: the target's facts, plus what sharing adds (the sharer, the link, the image file to read)."""

    facts: PosterFacts
    sharer_name: str
    link: str
    image_path: Path | None


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


def _product_image(path: Path | None, size: tuple[int, int]) -> Image.Image:
    """A missing or broken product image must not break sharing: fall back to a neutral block."""
    try:
        if path is None:
            raise FileNotFoundError
        with Image.open(path) as opened:
            opened.draft("RGB", size)  # a large JPEG (an upload from before they were scaled) decodes small
            image = ImageOps.exif_transpose(opened).convert("RGBA")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return _placeholder(size)
    flat = Image.new("RGBA", image.size, "white")
    flat.alpha_composite(image)  # transparent PNGs would otherwise turn black
    return cover_crop(flat.convert("RGB"), size)


def _placeholder(size: tuple[int, int]) -> Image.Image:
    block = Image.new("RGB", size, PLACEHOLDER)
    ImageDraw.Draw(block).text((size[0] / 2, size[1] / 2), "暂无图片", fill="#c8c8c8", font=cjk_font(36),
                               anchor="mm")
    return block


def _bold(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, fill: str, font: ImageFont.FreeTypeFont,
          anchor: str = "la") -> None:
    """The bundled font has one weight: a one-pixel stroke of the same colour stands in for bold."""
    draw.text(xy, text, fill=fill, font=font, anchor=anchor, stroke_width=1, stroke_fill=fill)


def _fitting_size(text: str, largest: int, smallest: int, max_width: float) -> int:
    """The largest font size from `largest` down at which `text` fits on one line."""
    size = largest
    while size > smallest and cjk_font(size).getlength(text) > max_width:
        size -= 4
    return size


def _hero_panel(facts: PosterFacts, image_path: Path | None) -> Image.Image:
    """A show-off card's top: a red panel with its big line, and the product's picture framed below when it has
    one."""
    panel = Image.new("RGB", (WIDTH, PICTURE_HEIGHT), RED)
    shade = Image.linear_gradient("L").resize((WIDTH, PICTURE_HEIGHT))
    panel.paste(Image.new("RGB", panel.size, DEEP_RED), (0, 0), shade.point(lambda v: v * 3 // 5))
    glow = Image.new("RGBA", panel.size, (0, 0, 0, 0))
    rings = ImageDraw.Draw(glow)
    for box, alpha in (((520, -140, 900, 240), 30), ((-160, 380, 200, 740), 24), ((600, 300, 760, 460), 18)):
        rings.ellipse(box, fill=(255, 255, 255, alpha))
    panel = Image.alpha_composite(panel.convert("RGBA"), glow).convert("RGB")
    draw = ImageDraw.Draw(panel)
    hero = facts.hero or ""
    framed = image_path is not None
    middle = 150 if framed else PICTURE_HEIGHT // 2 + 10
    if facts.hero_note:
        note = _one_line(facts.hero_note, cjk_font(32), WIDTH - 2 * PAD)
        draw.text((WIDTH / 2, middle - 82), note, fill="#ffe2e2", font=cjk_font(32), anchor="mm")
    size = _fitting_size(hero, 96, 48, WIDTH - 2 * PAD)
    _bold(draw, (WIDTH / 2, middle), _one_line(hero, cjk_font(size), WIDTH - 2 * PAD), "white", cjk_font(size),
          anchor="mm")
    if framed:
        side = 300
        frame = Image.new("L", (side * 4, side * 4), 0)
        ImageDraw.Draw(frame).rounded_rectangle((0, 0, side * 4 - 1, side * 4 - 1), radius=24 * 4, fill=255)
        mask = frame.resize((side, side), Image.Resampling.LANCZOS)
        left, top = (WIDTH - side) // 2, 225
        panel.paste("white", (left, top, left + side, top + side), mask)
        inner = side - 20
        picture = _product_image(image_path, (inner, inner))
        inner_mask = mask.resize((inner, inner), Image.Resampling.LANCZOS)
        panel.paste(picture, (left + 10, top + 10), inner_mask)
    return panel


def _draw_badge(poster: Image.Image, text: str) -> None:
    """The mechanic's name on a red tag in the top left corner, with a white edge so it reads on any picture."""
    font = cjk_font(28)
    shown = _one_line(text, font, WIDTH / 2)
    width, height = int(font.getlength(shown)) + 40, 52
    draw = ImageDraw.Draw(poster)
    draw.rounded_rectangle((PAD - 3, PAD - 3, PAD + width + 3, PAD + height + 3), radius=29, fill="white")
    draw.rounded_rectangle((PAD, PAD, PAD + width, PAD + height), radius=26, fill=RED)
    _bold(draw, (PAD + width / 2, PAD + height / 2), shown, "white", font, anchor="mm")


def _draw_price(draw: ImageDraw.ImageDraw, price_fen: int, list_price_fen: int | None, baseline: int) -> None:
    """JD/Pinduoduo style: a small ¥ and cents around big yuan, then the struck-through list price."""
    whole, cents = format_price(price_fen)[1:].split(".")
    struck = format_price(list_price_fen) if list_price_fen is not None and list_price_fen > price_fen else None
    for big in range(80, 40, -4):  # shrink for very large prices so the row never overflows
        parts = [("¥", cjk_font(big // 2)), (whole, cjk_font(big)), (f".{cents}", cjk_font(big * 11 // 20))]
        width = sum(font.getlength(part) for part, font in parts)
        if struck:
            width += 20 + cjk_font(30).getlength(struck)
        if width <= WIDTH - 2 * PAD:
            break
    x = float(PAD)
    for part, font in parts:
        _bold(draw, (x, baseline), part, RED, font, anchor="ls")
        x += font.getlength(part) + 2
    if struck:
        left, top, right, bottom = draw.textbbox((x + 18, baseline), struck, font=cjk_font(30), anchor="ls")
        draw.text((left, baseline), struck, fill=MUTED, font=cjk_font(30), anchor="ls")
        middle = (top + bottom) // 2 + 1
        draw.line([(left - 2, middle), (right + 2, middle)], fill=MUTED, width=2)


def _draw_progress(draw: ImageDraw.ImageDraw, facts: PosterFacts, top: int) -> int:
    """The mechanic's facts on a pale red panel: status, progress bar, small print. Returns the panel's bottom."""
    if facts.status is None and facts.progress_percent is None and not facts.details:
        return top
    inner = WIDTH - 2 * PAD - 48
    rows: list[tuple[str, int]] = []  # (what, height)
    if facts.status:
        rows.append(("status", 48))
    if facts.progress_percent is not None:
        rows.append(("bar", 30))
    details = [_one_line(line, cjk_font(24), inner) for line in facts.details[:2]]
    rows.extend(("detail", 36) for _ in details)
    bottom = top + 20 + sum(height for _, height in rows) + 16
    draw.rounded_rectangle((PAD, top, WIDTH - PAD, bottom), radius=20, fill=PANEL)
    x, y = PAD + 24, top + 20
    for what, height in rows:
        if what == "status":
            status = _one_line(facts.status or "", cjk_font(32), inner)
            _bold(draw, (x, y + height / 2 - 4), status, RED, cjk_font(32), anchor="lm")
        elif what == "bar":
            percent = max(0, min(100, facts.progress_percent or 0))
            label = f"{percent}%"
            bar_right = x + inner - cjk_font(24).getlength(label) - 16
            middle = y + 12
            draw.rounded_rectangle((x, middle - 8, bar_right, middle + 8), radius=8, fill=TRACK)
            if percent:
                filled = x + max(16, (bar_right - x) * percent / 100)
                draw.rounded_rectangle((x, middle - 8, filled, middle + 8), radius=8, fill=RED)
            draw.text((x + inner, middle), label, fill=RED, font=cjk_font(24), anchor="rm")
        else:
            draw.text((x, y + height / 2), details.pop(0), fill=TEXT, font=cjk_font(24), anchor="lm")
        y += height
    return bottom


def _draw_sharer(poster: Image.Image, draw: ImageDraw.ImageDraw, name: str, says: str, top: int,
                 max_width: int) -> None:
    """A round initial stands in for the avatar, which the poster renderer never downloads."""
    name = name.strip() or "好友"
    avatar = 56
    disc = Image.new("L", (avatar * 4, avatar * 4), 0)
    ImageDraw.Draw(disc).ellipse((0, 0, avatar * 4 - 1, avatar * 4 - 1), fill=255)
    poster.paste(RED, (PAD, top, PAD + avatar, top + avatar), disc.resize((avatar, avatar), Image.Resampling.LANCZOS))
    draw.text((PAD + avatar / 2, top + avatar / 2), name[0], fill="white", font=cjk_font(28), anchor="mm")
    suffix = f" {says}"
    font = cjk_font(28)
    text_x = PAD + avatar + 16
    shown = _one_line(name, font, max_width - (text_x - PAD) - font.getlength(suffix))
    _bold(draw, (text_x, top + avatar / 2), shown, INK, font, anchor="lm")
    draw.text((text_x + font.getlength(shown), top + avatar / 2), suffix, fill=TEXT, font=font, anchor="lm")


def render_poster_png(content: PosterContent) -> bytes:
    """The 750×1200 poster users save and forward, for every kind of share: the product's picture (or a red
    panel with a show-off card's big line), the price, the title, the mechanic's facts, the sharer and the QR
    code to scan."""
    facts = content.facts
    poster = Image.new("RGB", (WIDTH, HEIGHT), "white")
    if facts.hero is not None:
        poster.paste(_hero_panel(facts, content.image_path), (0, 0))
    else:
        poster.paste(_product_image(content.image_path, (WIDTH, PICTURE_HEIGHT)), (0, 0))
    if facts.badge:
        _draw_badge(poster, facts.badge)
    draw = ImageDraw.Draw(poster)

    y = PICTURE_HEIGHT + 24
    if facts.price_fen is not None:
        _draw_price(draw, facts.price_fen, facts.list_price_fen, baseline=y + 72)
        y += 92
    title_font = cjk_font(34)
    for line in wrap_text(facts.title, title_font, WIDTH - 2 * PAD):
        _bold(draw, (PAD, y), line, INK, title_font)
        y += 48
    _draw_progress(draw, facts, y + 14)

    qr = _qr_fitting(content.link, QR_SIZE)
    qr_x, qr_y = WIDTH - PAD - qr.width, HEIGHT - PAD - qr.height
    poster.paste(qr, (qr_x, qr_y))
    column = qr_x - 32 - PAD  # the text column to the left of the QR code
    _draw_sharer(poster, draw, content.sharer_name, facts.sharer_says, top=qr_y + 24, max_width=column)
    tagline = _one_line(facts.tagline, cjk_font(24), column)
    draw.text((PAD, qr_y + qr.height - 30), tagline, fill=MUTED, font=cjk_font(24), anchor="ld")
    return _png(poster)


def content_key(content: PosterContent) -> str:
    """A hash of everything a poster shows: every fact (so a seat taken or a cut made draws anew), the sharer,
    the link, and the product image file by name, size and modification time. Two posters with the same key are
    the same picture."""
    image = content.image_path
    stat = image.stat() if image is not None and image.is_file() else None
    drawn = {"layout": LAYOUT_VERSION, "facts": asdict(content.facts), "sharer": content.sharer_name,
             "link": content.link,
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
