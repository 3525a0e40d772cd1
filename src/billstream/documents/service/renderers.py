"""One `DocumentRenderer` per thread: fonts, templates and images are loaded once per thread
(WeasyPrint's font configuration is not shared between threads)."""

from __future__ import annotations

import threading

from billstream.documents.rendering import DocumentRenderer

_local = threading.local()


def current_renderer() -> DocumentRenderer:
    renderer: DocumentRenderer | None = getattr(_local, "renderer", None)
    if renderer is None:
        renderer = DocumentRenderer()
        _local.renderer = renderer
    return renderer
