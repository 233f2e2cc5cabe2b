"""Reading request bodies the way the real platforms accept them."""

from urllib.parse import parse_qsl

from fastapi import Request


async def form_pairs(request: Request) -> list[tuple[str, str]]:
    """An application/x-www-form-urlencoded body as ordered pairs (repeated keys kept).

    Parsed here rather than by request.form(): that needs python-multipart, which Crier does not
    otherwise depend on, and the platforms' forms are plain urlencoded.
    """
    return parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)


async def form_dict(request: Request) -> dict[str, str]:
    """The form's fields, the last value winning for repeated keys."""
    return dict(await form_pairs(request))
