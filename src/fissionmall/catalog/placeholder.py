"""Placeholder pictures drawn from a title and a colour: the demo's product images and the photos its shoppers post."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont


def _font(size: int) -> ImageFont.FreeTypeFont:
    import cvttf_NotoSansCJK_Regular as fonts

    path = next(Path(fonts.__file__).parent.glob("*.otf"))
    return ImageFont.truetype(str(path), size)


def draw_picture(title: str, colour: str) -> Image.Image:
    """A clean placeholder photo: the colour, the title in two lines, a soft highlight."""
    image = Image.new("RGB", (800, 800), colour)
    draw = ImageDraw.Draw(image)
    red, green, blue = Image.new("RGB", (1, 1), colour).getpixel((0, 0))  # type: ignore[misc]
    draw.ellipse((-200, -260, 620, 420), fill=(min(255, red + 40), min(255, green + 40), min(255, blue + 40)))
    font = _font(64)
    words = title.split(" ")
    lines = [" ".join(words[: max(1, len(words) // 2)]), " ".join(words[max(1, len(words) // 2):])]
    y = 470
    for line in filter(None, lines):
        width = draw.textlength(line, font=font)
        draw.text(((800 - width) / 2, y), line, font=font, fill="white")
        y += 90
    return image
