"""Which fonts the PDF renderer can use for Chinese: asks fontconfig, as WeasyPrint (through Pango) does.

The same question as ``fc-list :lang=zh-cn family``, through the library rather than the program (which a
minimal server may not have), and in a few milliseconds, so it can run at every start-up.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


class FontconfigMissing(RuntimeError):
    pass


class _FontSet(ctypes.Structure):
    _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int), ("fonts", ctypes.POINTER(ctypes.c_void_p))]


@cache
def _library() -> ctypes.CDLL:
    name = ctypes.util.find_library("fontconfig")
    if name is None:
        raise FontconfigMissing("the fontconfig library is not installed (Debian: libfontconfig1)")
    lib = ctypes.CDLL(name)
    lib.FcPatternCreate.restype = ctypes.c_void_p
    lib.FcLangSetCreate.restype = ctypes.c_void_p
    lib.FcLangSetAdd.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.FcPatternAddLangSet.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    lib.FcObjectSetBuild.restype = ctypes.c_void_p
    lib.FcFontList.restype = ctypes.POINTER(_FontSet)
    lib.FcFontList.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.FcPatternGetString.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
    lib.FcFontSetDestroy.argtypes = [ctypes.POINTER(_FontSet)]
    lib.FcObjectSetDestroy.argtypes = [ctypes.c_void_p]
    lib.FcPatternDestroy.argtypes = [ctypes.c_void_p]
    lib.FcLangSetDestroy.argtypes = [ctypes.c_void_p]
    return lib


def families_for(language: str = "zh-cn") -> list[str]:
    """The font families that cover ``language``, sorted; empty when there is none."""
    lib = _library()
    pattern = lib.FcPatternCreate()
    langs = lib.FcLangSetCreate()
    objects = lib.FcObjectSetBuild(b"family", None)
    try:
        lib.FcLangSetAdd(langs, language.encode())
        lib.FcPatternAddLangSet(pattern, b"lang", langs)
        found = lib.FcFontList(None, pattern, objects)
        families = set()
        try:
            for i in range(found.contents.nfont):
                value = ctypes.c_char_p()
                if lib.FcPatternGetString(found.contents.fonts[i], b"family", 0, ctypes.byref(value)) == 0:
                    families.add((value.value or b"").decode("utf-8", "replace"))
        finally:
            lib.FcFontSetDestroy(found)
    finally:
        lib.FcObjectSetDestroy(objects)
        lib.FcLangSetDestroy(langs)
        lib.FcPatternDestroy(pattern)
    return sorted(families)
