#!/usr/bin/env python3
r"""Make attack fixtures (and benign controls) from signed PDFs, for the verification tests.

Usage: attacks.py SIGNED.pdf OUT_DIR [--prefix NAME] [--certified-p2 FILE]
                  [--certified-p3 FILE] [--two-signatures FILE] [--trust-root ROOT.pem ...]

Every fixture is SIGNED.pdf (or one of the optional inputs) changed at the byte level: in
place inside the signed bytes or the /Contents hex, or by a hand-written incremental update
(a classic `xref` table and `trailer` whose /Prev is the input's last startxref, then
`startxref` and `%%EOF`; this works whether the input's last section is a table or an xref
stream). Objects are located through the xref chain that pyHanko's reader walks (startxref ->
xref table or stream -> /Prev), and every offset used is checked to start with the expected
"N G obj" header; nothing is found by searching for %%EOF. Only the attacker's view is used:
no private key, no re-signing. The attacks are those of Mladenov et al., "1 Trillion Dollar
Refund: How To Spoof PDF Signatures" (CCS 2019: USF, ISA, SWA) and Mainka et al., "Breaking
the Specification: PDF Certification" (S&P 2021: EAA, SSA).

Fixtures, written as OUT_DIR/NAME_<fixture>.pdf (NAME from --prefix, default the input's
file stem). The "target" is the last approval (/Sig) signature of the input, unless said:

USF  usf_contents_missing, usf_contents_null, usf_contents_empty (<>), usf_contents_wrong_type
     (an integer), usf_byterange_missing, usf_byterange_null, usf_byterange_empty ([]),
     usf_byterange_wrong_type (a string that spells the numbers): an update redefining the
     signature dictionary (same object number) with that one change; usf_garbage_cms (in
     place: random bytes that are not DER, zero-padded, in /Contents), usf_two_signerinfos
     (in place: the CMS re-encoded with its SignerInfo twice; when that does not fit the
     reserved /Contents, the second copy, or failing that both, lack unsigned attributes,
     and as a last resort the certificates are cut down to the signer's own).
ISA  isa_page_content (update: new content stream drawing "PAID 1,000,000" on page 1, page
     redefined with /Contents [q, old..., new]); isa_xref_repoint (xref-only update pointing
     an object at an older definition of the same object number in the signed bytes: page
     1, the AcroForm or the catalog of SIGNED.pdf, else of --two-signatures, else any object
     of either; the target is then the last signature of the file used);
     isa_xref_mismatched_header (xref-only update pointing page 1's content stream number
     at another object's "N G obj" header, a Form XObject or other stream if there is one);
     isa_freed_object (xref-only update marking page 1's content stream free);
     isa_eof_in_string (isa_page_content preceded by an object that is a string holding
     "\nstartxref\n<input's startxref>\n%%EOF\n"); isa_trailing_bytes (a definition of page
     1's content stream number, drawing a red box and, in the page's first font, PAID,
     appended after the final %%EOF without any xref); isa_linearized_dict (update whose
     first and only object is an unreferenced /Linearized dictionary).
SWA  swa_moved_second_range (in place: ByteRange [a b c+16 d-16], same text width);
     swa_gap_enlarged (Mladenov et al.'s wrapping: the input is cut at the end of the
     target's signed revision; its second signed range is moved k bytes later and the
     k-byte hole, which the rewritten ByteRange [a b c+k d] excludes, holds a /SWAPad string
     in the signature dictionary that contains, exactly at the offset the signed startxref
     names, a new xref table plus a redefined page 1 drawing PAID); swa_overlapping_gaps
     (--two-signatures: the later signature's ByteRange gap starts in the middle of the
     earlier one's /Contents); swa_range_past_eof (in place: c+d beyond the end of file).
SIGDICT sigdict_redefined (update redefining the signature dictionary with another /Reason,
     /M and /Name, the same /ByteRange and /Contents).
TIMESTAMP copied_timestamp (--two-signatures: the earlier signature's signature-timestamp
     token replaces the later one's, in place, in the same /Contents length).
EAA  eaa_freetext_p3, eaa_stamp_p3 (--certified-p3: update adding a FreeText / Stamp
     annotation, with an appearance stream that whites out the top of page 1 and writes
     PAID there, to page 1's /Annots; target: the certification signature).
SSA  ssa_new_widget_p2 (--certified-p2: update adding an unsigned signature field whose
     widget's appearance covers the top of page 1, to /AcroForm /Fields and page /Annots;
     target: the certification signature).
BENIGN benign_cr_after_eof, benign_lf_after_eof (one CR / LF appended).
A fixture whose input was not given, or that the input's structure rules out (say, a
signature without a timestamp to copy), is listed under "skipped" with the reason.

OUT_DIR/manifest.json (merged with an existing one: entries with the same prefix are
replaced, others kept; an OUT_DIR whose manifest.json is some other tool's is refused):

  {"fixtures": [{"name", "file", "prefix", "input", "class", "target_field",
                 "expected_integrity", "qpdf_ok", "qpdf_message", "malformed",
                 "description", "pdfsig_says_valid", "pdfsig", "pyhanko",
                 "pyhanko_signatures", "payload_rendered"}],
   "skipped": [{"name", "prefix", "input", "reason"}]}

"expected_integrity" is what a verifier must conclude for target_field: "invalid" (USF, SWA,
SIGDICT, TIMESTAMP), "modified" (ISA, SSA: signed bytes intact but changed afterwards in a
way no signature allows) or "intact" (BENIGN; EAA too: an annotation is permitted by
DocMDP P3, yet a verifier must warn about it and never report a total pass). "malformed"
marks fixtures that are broken on purpose at the file-structure level
(isa_xref_mismatched_header, isa_trailing_bytes); every other fixture must pass
`qpdf --check` or the script fails. "pdfsig" is pdfsig's record for target_field (see
peer_verdicts.py; {"error"} when pdfsig lists no such field) and "pdfsig_says_valid"
whether it says "Signature is Valid." there; "pyhanko" is pyHanko's record for target_field (intact,
valid, coverage, modification_level, docmdp_ok, timestamp_valid, error, ...; trust only from
--trust-root; "judged" false when pyHanko raised instead of judging, see peer_verdicts.py)
and "pyhanko_signatures" the short form for every signature field.
"payload_rendered" is whether poppler's pdftotext finds the attacker's text ("PAID") on page
1 (null for fixtures that draw nothing).

Exit status: 0 when every fixture was written and checked, 1 on failure (a tool missing,
an input that is not a signed PDF or whose target signature is not intact to begin with,
a --certified-p2/-p3 input with another DocMDP level, a fixture that should pass
qpdf --check but does not), 2 on usage errors.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

SETUP_HINT = "run scripts/setup.sh test and use its venv's python"

try:
    from asn1crypto import cms
    from pyhanko.keys import load_certs_from_pemder
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import MDPPerm
except ImportError as e:  # pragma: no cover - depends on the environment
    sys.exit(f"attacks: {e.name} is missing; {SETUP_HINT}")

sys.dont_write_bytecode = True  # no __pycache__ next to the tests
sys.path.insert(0, str(Path(__file__).resolve().parent))
import peer_verdicts  # noqa: E402  (tests/interop/peer_verdicts.py)

PAYLOAD_TEXT = b"PAID 1,000,000"
EXPECTED = {"USF": "invalid", "SWA": "invalid", "SIGDICT": "invalid", "TIMESTAMP": "invalid",
            "ISA": "modified", "SSA": "modified", "EAA": "intact", "BENIGN": "intact"}  # fmt: skip
MALFORMED = {"isa_xref_mismatched_header", "isa_trailing_bytes"}


class AttackError(Exception):
    """Fatal: the run cannot go on."""


class Skip(Exception):
    """This fixture cannot be made from the inputs given."""


# ---- PDF plumbing --------------------------------------------------------------------------


class Raw(generic.PdfObject):
    """Bytes written verbatim where a PDF object goes (e.g. an original /Contents hex)."""

    def __init__(self, raw: bytes):
        self.raw = raw

    def write_to_stream(self, stream, handler=None, container_ref=None):
        stream.write(self.raw)


def ser(obj: generic.PdfObject) -> bytes:
    buf = io.BytesIO()
    obj.write_to_stream(buf, None)
    return buf.getvalue()


def name(s: str) -> generic.NameObject:
    return generic.NameObject(s)


def copy_dict(d: generic.DictionaryObject) -> generic.DictionaryObject:
    """Shallow copy that keeps indirect references as references."""
    return generic.DictionaryObject({k: d.raw_get(k) for k in d.keys()})


def stream_body(dict_entries: bytes, data: bytes) -> bytes:
    entries = (dict_entries + b" " if dict_entries else b"") + b"/Length %d" % len(data)
    return b"<< " + entries + b" >>\nstream\n" + data + b"\nendstream"


def byte_range_text(values: list[int], width: int) -> bytes:
    text = ("[" + " ".join(str(v) for v in values) + "]").encode()
    if len(text) > width:
        raise Skip(f"ByteRange {values} does not fit the {width} bytes of the original")
    return text + b" " * (width - len(text))


class Signed:
    """A signed input: its bytes, pyHanko's reader, and what the xref chain says."""

    def __init__(self, path: Path):
        self.path = path
        self.data = path.read_bytes()
        try:
            self.reader = PdfFileReader(io.BytesIO(self.data), strict=False)
            self.trailer = self.reader.trailer.flatten()
            self.sigs = list(self.reader.embedded_signatures)
        except Exception as e:  # noqa: BLE001
            raise AttackError(f"{path}: pyHanko cannot read it: {type(e).__name__}: {e}")
        if "/Encrypt" in self.trailer:
            raise AttackError(f"{path}: encrypted files are not supported")
        self.revisions = self.reader.xrefs.total_revisions
        self.last_startxref = self.reader.xrefs.get_startxref_for_revision(self.revisions - 1)
        if self.last_startxref != self.reader.last_startxref:
            raise AttackError(f"{path}: startxref {self.reader.last_startxref} but the chain "
                              f"starts at {self.last_startxref}")  # fmt: skip
        self.size = int(self.trailer["/Size"])
        self.regular = [s for s in self.sigs if s.sig_object_type == "/Sig"]
        if not self.regular:
            raise AttackError(f"{path}: no approval or certification signature")

    # -- locating things -------------------------------------------------------------------

    def header_at(self, offset: int, ref: generic.Reference | None = None) -> tuple[int, int]:
        m = re.compile(rb"\s*(\d+)\s+(\d+)\s+obj\b").match(self.data, offset)
        if m is None:
            raise AttackError(f"{self.path}: no object header at byte {offset}")
        got = int(m.group(1)), int(m.group(2))
        if ref is not None and got != (ref.idnum, ref.generation):
            raise AttackError(f"{self.path}: xref says {ref.idnum} {ref.generation} obj is at "
                              f"{offset}, but {got[0]} {got[1]} obj is there")  # fmt: skip
        return got

    def offset(self, ref: generic.Reference) -> int:
        loc = self.reader.xrefs[ref]
        if not isinstance(loc, int):
            raise Skip(f"object {ref.idnum} {ref.generation} is in an object stream")
        self.header_at(loc, ref)
        return loc

    def describe(self, num: int, gen: int) -> str:
        """"page 1 (4 0 obj)", "the catalog (5 0 obj)", "4 0 obj (/Type /Metadata)", ..."""
        label = f"{num} {gen} obj"
        if num == self.page1()[0].idnum:
            return f"page 1 ({label})"
        if num == self.reader.root_ref.idnum:
            return f"the catalog ({label})"
        if "/AcroForm" in self.reader.root:
            raw = self.reader.root.raw_get("/AcroForm")
            if isinstance(raw, generic.IndirectObject) and raw.idnum == num:
                return f"the AcroForm ({label})"
        try:
            obj = self.reader.get_object(generic.Reference(num, gen, self.reader))
        except Exception:  # noqa: BLE001
            return label
        kind = "stream" if isinstance(obj, generic.StreamObject) else type(obj).__name__
        if isinstance(obj, generic.DictionaryObject):
            kind = " ".join(f"{k} {obj.raw_get(k)}" for k in ("/Type", "/Subtype") if k in obj) \
                or ("stream" if isinstance(obj, generic.StreamObject) else "dictionary")
        return f"{label} ({kind})"

    def plain_offsets(self) -> dict[int, tuple[int, int]]:
        """Object number -> (generation, offset) for objects stored at a plain offset now."""
        out: dict[int, tuple[int, int]] = {}
        for rev in range(self.revisions):
            xdata = self.reader.xrefs.get_xref_data(rev)
            for num in xdata.freed:
                out.pop(num, None)
            for num in xdata.xrefs_in_objstm:
                out.pop(num, None)
            out.update(xdata.standard_xrefs)
        return out

    @staticmethod
    def sig_ref(sig) -> generic.Reference:
        return sig.sig_field.raw_get("/V").reference

    def byte_range(self, sig) -> list[int]:
        br = [int(x) for x in sig.byte_range]
        if len(br) != 4:
            raise Skip(f"{sig.field_name}: ByteRange has {len(br)} numbers")
        a, b, c, d = br
        if self.data[b : b + 1] != b"<" or self.data[c - 1 : c] != b">":
            raise AttackError(f"{self.path}: {sig.field_name}'s ByteRange gap is not /Contents")
        return br

    def byte_range_span(self, sig) -> tuple[int, int]:
        """Where "[a b c d]" and the spaces after it sit in the signature dictionary."""
        start = self.offset(self.sig_ref(sig))
        _, b, c, _ = self.byte_range(sig)
        end = self.data.find(b"endobj", c)
        pattern = re.compile(rb"/ByteRange\s*(\[[0-9\s]*\] *)")
        hits = [m for part in ((start, b), (c, end))
                for m in [pattern.search(self.data, *part)] if m]  # fmt: skip
        if len(hits) != 1:
            raise Skip(f"{sig.field_name}: /ByteRange is not a plain array in the dictionary")
        return hits[0].span(1)

    def contents_hex(self, sig) -> tuple[int, int]:
        """Offsets of the hex digits inside /Contents <...>."""
        _, b, c, _ = self.byte_range(sig)
        return b + 1, c - 1

    def cms(self, sig) -> cms.ContentInfo:
        start, end = self.contents_hex(sig)
        return cms.ContentInfo.load(bytes.fromhex(self.data[start:end].decode()), strict=False)

    def certification(self, level: MDPPerm):
        for sig in self.regular:
            if sig.docmdp_level is not None:
                if sig.docmdp_level != level:
                    raise AttackError(f"{self.path}: certified with {sig.docmdp_level.name}, "
                                      f"not {level.name}")  # fmt: skip
                return sig
        raise AttackError(f"{self.path}: no certification (DocMDP) signature")

    def check_intact(self, sig) -> None:
        """The fixtures mean something only if the input's signature was intact."""
        intact, valid = peer_verdicts.bare_integrity(sig)
        if not (intact and valid):
            raise AttackError(f"{self.path}: {sig.field_name} is not intact to begin with "
                              f"(pyHanko: intact={intact}, valid={valid})")  # fmt: skip

    # -- page 1 ----------------------------------------------------------------------------

    def page1(self) -> tuple[generic.Reference, generic.DictionaryObject]:
        page_ref, _ = self.reader.find_page_for_modification(0)
        return page_ref.reference, page_ref.get_object()

    def inherited(self, page: generic.DictionaryObject, key: str):
        node = page
        for _ in range(64):
            if key in node:
                return node[key]
            if "/Parent" not in node:
                break
            node = node["/Parent"]
        return None

    def media_box(self) -> tuple[float, float, float, float]:
        box = self.inherited(self.page1()[1], "/MediaBox") or [0, 0, 595, 842]
        x1, y1, x2, y2 = (float(v) for v in box)
        return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)

    def content_refs(self) -> list[generic.Reference]:
        _, page = self.page1()
        if "/Contents" not in page:
            raise Skip("page 1 has no content stream")
        raw = page.raw_get("/Contents")
        if isinstance(raw, generic.IndirectObject):
            target = raw.get_object()
            if isinstance(target, generic.StreamObject):
                return [raw.reference]
            raw = target
        refs = [item.reference for item in raw if isinstance(item, generic.IndirectObject)]
        if not refs:
            raise Skip("page 1 has no content stream")
        return refs

    def first_font_name(self) -> str | None:
        res = self.inherited(self.page1()[1], "/Resources")
        if res is None or "/Font" not in res:
            return None
        fonts = res["/Font"]
        return next(iter(fonts.keys()), None)


class Update:
    """One incremental update: new object bodies and xref entries, then xref + trailer."""

    def __init__(self, pdf: Signed):
        self.pdf = pdf
        self.base = pdf.data if pdf.data.endswith((b"\n", b"\r")) else pdf.data + b"\n"
        self.prev = pdf.last_startxref
        self.body = bytearray()
        self.entries: dict[int, tuple[int, int, str]] = {}
        self.next_num = pdf.size

    def new_num(self) -> int:
        self.next_num += 1
        return self.next_num - 1

    def add(self, num: int, gen: int, body: bytes) -> int:
        offset = len(self.base) + len(self.body)
        self.body += b"%d %d obj\n" % (num, gen) + body + b"\nendobj\n"
        self.entries[num] = (offset, gen, "n")
        return offset

    def point(self, num: int, gen: int, offset: int) -> None:
        self.entries[num] = (offset, gen, "n")

    def free(self, num: int, gen: int) -> None:
        # The free list: object 0 -> num -> 0; the next generation is gen + 1.
        self.entries[0] = (num, 65535, "f")
        self.entries[num] = (0, gen + 1, "f")

    def trailer(self, size: int) -> bytes:
        return trailer_dict(self.pdf.trailer, size, self.prev)

    def build(self) -> bytes:
        xref_at = len(self.base) + len(self.body)
        size = max([self.pdf.size, self.next_num] + [n + 1 for n in self.entries])
        out = bytearray(self.base + self.body)
        out += b"xref\n" + xref_subsections(self.entries)
        out += b"trailer\n" + self.trailer(size) + b"\nstartxref\n%d\n%%%%EOF\n" % xref_at
        return bytes(out)


def trailer_dict(trailer: generic.DictionaryObject, size: int, prev: int) -> bytes:
    """<< /Size /Root /Info /ID /Prev >>, with /ID in hex (no backslash, no parenthesis)."""
    parts = [b"/Size %d" % size]
    for key in ("/Root", "/Info"):
        if key in trailer:
            parts.append(key.encode() + b" " + ser(trailer.raw_get(key)))
    if "/ID" in trailer:
        ids = [getattr(x, "original_bytes", x) for x in trailer["/ID"]]
        parts.append(b"/ID [" + b" ".join(b"<" + bytes(x).hex().upper().encode() + b">"
                                          for x in ids) + b"]")  # fmt: skip
    parts.append(b"/Prev %d" % prev)
    return b"<< " + b" ".join(parts) + b" >>"


def xref_subsections(entries: dict[int, tuple[int, int, str]]) -> bytes:
    out = bytearray()
    nums = sorted(entries)
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out += b"%d %d\n" % (nums[i], j - i + 1)
        for num in nums[i : j + 1]:
            first, gen, kind = entries[num]
            out += b"%010d %05d %s\r\n" % (first, gen, kind.encode())
        i = j + 1
    return bytes(out)


# ---- payloads --------------------------------------------------------------------------------

FONT_BODY = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def page_payload(pdf: Signed, upd_num: Callable[[], int], revision: int | None = None
                 ) -> list[tuple[int, int, bytes]]:  # fmt: skip
    """Objects that make page 1 draw PAID: q stream, text stream, font, redefined page."""
    page_ref, page = pdf.page1()
    if revision is not None:
        page = pdf.reader.get_object(page_ref, revision=revision)
    x1, y1, x2, y2 = pdf.media_box()
    q_num, text_num, font_num = upd_num(), upd_num(), upd_num()
    text = (b"Q\nq 1 0 0 1 %.2f %.2f cm 1 0 0 rg BT /SigAtkF 40 Tf 0 0 Td (%s) Tj ET Q\n"
            % (x1 + 60, y1 + (y2 - y1) * 0.45, PAYLOAD_TEXT))  # fmt: skip
    new_page = copy_dict(page)
    raw_contents = page.raw_get("/Contents")
    if isinstance(raw_contents, generic.IndirectObject) and isinstance(
        raw_contents.get_object(), generic.StreamObject
    ):
        old = [raw_contents]
    elif isinstance(raw_contents, generic.IndirectObject):
        old = list(raw_contents.get_object())
    else:
        old = list(raw_contents)
    new_page[name("/Contents")] = generic.ArrayObject(
        [generic.IndirectObject(q_num, 0, None)] + old + [generic.IndirectObject(text_num, 0, None)]
    )
    resources = pdf.inherited(page, "/Resources") or generic.DictionaryObject()
    new_res = copy_dict(resources)
    fonts = resources["/Font"] if "/Font" in resources else generic.DictionaryObject()
    new_fonts = copy_dict(fonts)
    new_fonts[name("/SigAtkF")] = generic.IndirectObject(font_num, 0, None)
    new_res[name("/Font")] = new_fonts
    new_page[name("/Resources")] = new_res
    return [
        (q_num, 0, stream_body(b"", b"q\n")),
        (text_num, 0, stream_body(b"", text)),
        (font_num, 0, FONT_BODY),
        (page_ref.idnum, page_ref.generation, ser(new_page)),
    ]


def appearance(pdf: Signed, upd: Update, label: bytes) -> tuple[list[float], int]:
    """A white box over the top of page 1 with red text; returns (Rect, stream number)."""
    x1, y1, x2, y2 = pdf.media_box()
    rect = [x1 + 50, y2 - 230, x2 - 50, y2 - 50]
    w, h = rect[2] - rect[0], rect[3] - rect[1]
    font = upd.new_num()
    upd.add(font, 0, FONT_BODY)
    ap_num = upd.new_num()
    content = (b"1 1 1 rg 0 0 %.2f %.2f re f\nBT 1 0 0 rg /Helv 30 Tf 12 %.2f Td (%s) Tj ET\n"
               % (w, h, h / 2 - 10, label))  # fmt: skip
    upd.add(ap_num, 0, stream_body(
        b"/Type /XObject /Subtype /Form /BBox [0 0 %.2f %.2f] /Resources << /Font << /Helv "
        b"%d 0 R >> >>" % (w, h, font), content))  # fmt: skip
    return rect, ap_num


def add_to_page_annots(pdf: Signed, upd: Update, annot_num: int) -> None:
    page_ref, page = pdf.page1()
    new_ref = generic.IndirectObject(annot_num, 0, None)
    raw = page.raw_get("/Annots") if "/Annots" in page else None
    if isinstance(raw, generic.IndirectObject):
        arr = generic.ArrayObject(list(raw.get_object()) + [new_ref])
        upd.add(raw.idnum, raw.generation, ser(arr))
    else:
        new_page = copy_dict(page)
        new_page[name("/Annots")] = generic.ArrayObject(list(raw or []) + [new_ref])
        upd.add(page_ref.idnum, page_ref.generation, ser(new_page))


def rect_text(rect: list[float]) -> bytes:
    return b"[" + b" ".join(b"%.2f" % v for v in rect) + b"]"


# ---- fixtures --------------------------------------------------------------------------------


@dataclass
class Fixture:
    name: str
    cls: str
    target: str
    data: bytes
    description: str
    input: str
    draws: bool = False


class Maker:
    def __init__(self, signed: Signed, p2: Signed | None, p3: Signed | None, two: Signed | None):
        self.pdf, self.p2, self.p3, self.two = signed, p2, p3, two
        self.target = signed.regular[-1]
        signed.check_intact(self.target)
        if p2 is not None:
            p2.check_intact(p2.certification(MDPPerm.FILL_FORMS))
        if p3 is not None:
            p3.check_intact(p3.certification(MDPPerm.ANNOTATE))
        if two is not None:
            for sig in two.regular[-2:]:
                two.check_intact(sig)

    def fixture(self, name: str, cls: str, data: bytes, description: str, *, pdf=None,
                target=None, draws=False) -> Fixture:  # fmt: skip
        pdf = pdf or self.pdf
        target = target or self.target
        return Fixture(name, cls, target.field_name, data, description, str(pdf.path), draws)

    def need(self, pdf: Signed | None, option: str) -> Signed:
        if pdf is None:
            raise Skip(f"needs {option}, which was not given")
        return pdf

    def two_last(self) -> tuple[Any, Any, Signed]:
        two = self.need(self.two, "--two-signatures")
        if len(two.regular) < 2:
            raise Skip(f"{two.path} has fewer than two approval/certification signatures")
        return two.regular[-2], two.regular[-1], two

    # -- USF -------------------------------------------------------------------------------

    def redefined_sigdict(self, mutate: Callable[[generic.DictionaryObject], None]) -> bytes:
        pdf, sig = self.pdf, self.target
        ref = pdf.sig_ref(sig)
        pdf.offset(ref)
        d = copy_dict(sig.sig_object)
        _, b, c, _ = pdf.byte_range(sig)
        d[name("/Contents")] = Raw(pdf.data[b:c])
        mutate(d)
        upd = Update(pdf)
        upd.add(ref.idnum, ref.generation, ser(d))
        return upd.build()

    def usf_updates(self) -> list[Fixture]:
        br = self.pdf.byte_range(self.target)
        as_string = generic.TextStringObject(" ".join(str(v) for v in br))

        def set_(key, value):
            return lambda d: d.__setitem__(name(key), value)

        def del_(key):
            return lambda d: d.pop(name(key))

        cases = [
            ("usf_contents_missing", del_("/Contents"), "/Contents removed"),
            ("usf_contents_null", set_("/Contents", generic.NullObject()), "/Contents null"),
            ("usf_contents_empty", set_("/Contents", generic.ByteStringObject(b"")),
             "/Contents <> (empty string)"),
            ("usf_contents_wrong_type", set_("/Contents", generic.NumberObject(12345)),
             "/Contents 12345 (an integer instead of a string)"),
            ("usf_byterange_missing", del_("/ByteRange"), "/ByteRange removed"),
            ("usf_byterange_null", set_("/ByteRange", generic.NullObject()), "/ByteRange null"),
            ("usf_byterange_empty", set_("/ByteRange", generic.ArrayObject()),
             "/ByteRange [] (empty array)"),
            ("usf_byterange_wrong_type", set_("/ByteRange", as_string),
             f"/ByteRange ({as_string}) (a string that spells the numbers)"),
        ]  # fmt: skip
        ref = self.pdf.sig_ref(self.target)
        return [
            self.fixture(fname, "USF", self.redefined_sigdict(mutate),
                         f"incremental update redefining the signature dictionary "
                         f"{ref.idnum} {ref.generation} obj of {self.target.field_name}: "
                         f"{what}; everything else as signed")  # fmt: skip
            for fname, mutate, what in cases
        ]

    def usf_garbage_cms(self) -> Fixture:
        pdf, sig = self.pdf, self.target
        start, end = pdf.contents_hex(sig)
        rng = random.Random(f"usf_garbage_cms:{len(pdf.data)}")
        garbage = bytes([0xFF]) + rng.randbytes(min(255, (end - start) // 2 - 1))
        hexed = garbage.hex().upper().encode()
        data = pdf.data[:start] + hexed + b"0" * (end - start - len(hexed)) + pdf.data[end:]
        return self.fixture("usf_garbage_cms", "USF", data,
                            f"in place: {sig.field_name}'s /Contents replaced by {len(garbage)} "
                            f"random bytes starting 0xFF (not DER), zero-padded to the same "
                            f"length; layout unchanged")  # fmt: skip

    def usf_two_signerinfos(self) -> Fixture:
        pdf, sig = self.pdf, self.target
        start, end = pdf.contents_hex(sig)
        room = (end - start) // 2
        tries = []
        # From the most faithful to the smallest, until one fits the reserved /Contents.
        hows = ["both copies identical",
                "the second copy without unsigned attributes (two full copies did not fit)",
                "both copies without unsigned attributes, i.e. without the signature "
                "timestamp (nothing larger fit)",
                "both copies without unsigned attributes and SignedData.certificates cut "
                "down to the signer's own certificate (nothing larger fit)"]  # fmt: skip
        for level, how in enumerate(hows):
            ci = pdf.cms(sig)
            sd = ci["content"]
            first = sd["signer_infos"][0]
            second = _without_unsigned(first) if level else cms.SignerInfo.load(first.dump())
            if level >= 2:
                first = _without_unsigned(first)
            sd["signer_infos"] = cms.SignerInfos([cms.SignerInfo.load(first.dump()), second])
            if level == 3:
                own = [c for c in sd["certificates"] if c.name == "certificate"
                       and c.chosen.serial_number == sig.signer_cert.serial_number
                       and c.chosen.issuer == sig.signer_cert.issuer]  # fmt: skip
                sd["certificates"] = cms.CertificateSet(own)
            encoded = ci.dump()
            tries.append(len(encoded))
            if len(encoded) <= room:
                hexed = encoded.hex().upper().encode()
                data = pdf.data[:start] + hexed + b"0" * (end - start - len(hexed)) + \
                    pdf.data[end:]  # fmt: skip
                return self.fixture("usf_two_signerinfos", "USF", data,
                                    f"in place: {sig.field_name}'s CMS re-encoded with two "
                                    f"SignerInfos, {how}; same /Contents length")  # fmt: skip
        raise Skip(f"a CMS with two SignerInfos needs {min(tries)} bytes, /Contents has "
                   f"room for {room}")  # fmt: skip

    # -- ISA -------------------------------------------------------------------------------

    def isa_page_content(self) -> Fixture:
        pdf = self.pdf
        upd = Update(pdf)
        for num, gen, body in page_payload(pdf, upd.new_num):
            upd.add(num, gen, body)
        page_ref, _ = pdf.page1()
        return self.fixture("isa_page_content", "ISA", upd.build(),
                            f"incremental update: page 1 ({page_ref.idnum} {page_ref.generation} "
                            f"obj) redefined with /Contents [q, old..., new] where the new "
                            f"stream draws '{PAYLOAD_TEXT.decode()}' in red Helvetica",
                            draws=True)  # fmt: skip

    def repoint_candidate(self, pdf: Signed, structural: bool
                          ) -> tuple[int, int, int, int, int] | None:  # fmt: skip
        """(num, gen, old offset, revision, current offset) of an older plain definition:
        of page 1, the AcroForm or the catalog when `structural`, else of any object."""
        page_ref, _ = pdf.page1()
        order = [page_ref.idnum]
        if "/AcroForm" in pdf.reader.root:
            raw = pdf.reader.root.raw_get("/AcroForm")
            if isinstance(raw, generic.IndirectObject):
                order.append(raw.idnum)
        order.append(pdf.reader.root_ref.idnum)
        current = pdf.plain_offsets()
        if not structural:
            order = sorted(set(current) - set(order))
        for num in order:
            if num not in current:
                continue
            gen, now = current[num]
            for rev in range(pdf.revisions - 1):
                entry = pdf.reader.xrefs.get_xref_data(rev).standard_xrefs.get(num)
                if entry and entry[0] == gen and entry[1] != now:
                    pdf.header_at(entry[1], generic.Reference(num, gen))
                    return num, gen, entry[1], rev, now
        return None

    def isa_xref_repoint(self) -> Fixture:
        found = None
        # Page 1, the AcroForm or the catalog of SIGNED.pdf, else of --two-signatures, else
        # any object of either.
        for structural in (True, False):
            for pdf in (self.pdf, self.two):
                if pdf is not None and found is None:
                    found = self.repoint_candidate(pdf, structural)
                    chosen = pdf
        if found is None:
            raise Skip("no object has an older definition at a plain offset in "
                       + ("SIGNED.pdf or --two-signatures" if self.two else
                          "SIGNED.pdf (and --two-signatures was not given)"))  # fmt: skip
        pdf = chosen
        num, gen, old, rev, now = found
        upd = Update(pdf)
        upd.point(num, gen, old)
        return self.fixture("isa_xref_repoint", "ISA", upd.build(),
                            f"xref-only update (no objects): {pdf.describe(num, gen)} "
                            f"re-pointed from its current definition at byte {now} to its "
                            f"revision-{rev} definition at byte {old}, inside the signed bytes",
                            pdf=pdf, target=pdf.regular[-1])  # fmt: skip

    def isa_xref_mismatched_header(self) -> Fixture:
        pdf = self.pdf
        content = pdf.content_refs()[0]
        pdf.offset(content)
        current = pdf.plain_offsets()
        candidates = []
        for num, (gen, off) in sorted(current.items()):
            if num == content.idnum:
                continue
            try:
                obj = pdf.reader.get_object(generic.Reference(num, gen, pdf.reader))
            except Exception:  # noqa: BLE001
                continue
            rank = 0 if isinstance(obj, generic.StreamObject) and obj.get("/Subtype") == "/Form" \
                else 1 if isinstance(obj, generic.StreamObject) else 2  # fmt: skip
            candidates.append((rank, num, gen, off))
        if not candidates:
            raise Skip("no other object at a plain offset")
        _, num, gen, off = min(candidates)
        pdf.header_at(off, generic.Reference(num, gen))
        upd = Update(pdf)
        upd.point(content.idnum, content.generation, off)
        return self.fixture("isa_xref_mismatched_header", "ISA", upd.build(),
                            f"xref-only update: page 1's content stream {content.idnum} "
                            f"{content.generation} obj pointed at byte {off}, where "
                            f"{pdf.describe(num, gen)} starts (header numbers do not "
                            f"match)")  # fmt: skip

    def isa_freed_object(self) -> Fixture:
        pdf = self.pdf
        content = pdf.content_refs()[0]
        upd = Update(pdf)
        upd.free(content.idnum, content.generation)
        return self.fixture("isa_freed_object", "ISA", upd.build(),
                            f"xref-only update marking page 1's content stream "
                            f"{content.idnum} {content.generation} obj free (next generation "
                            f"{content.generation + 1}) while the page still refers to "
                            f"it")  # fmt: skip

    def isa_eof_in_string(self) -> Fixture:
        pdf = self.pdf
        upd = Update(pdf)
        fake = b"\nstartxref\n%d\n%%%%EOF\n" % pdf.last_startxref
        decoy = upd.new_num()
        upd.add(decoy, 0, b"(" + fake + b")")
        for num, gen, body in page_payload(pdf, upd.new_num):
            upd.add(num, gen, body)
        return self.fixture("isa_eof_in_string", "ISA", upd.build(),
                            f"incremental update whose first object ({decoy} 0 obj) is a "
                            f"literal string holding '\\nstartxref\\n{pdf.last_startxref}"
                            f"\\n%%EOF\\n' (a fake end of file pointing at the signed xref), "
                            f"followed by isa_page_content's objects drawing "
                            f"'{PAYLOAD_TEXT.decode()}'", draws=True)  # fmt: skip

    def isa_trailing_bytes(self) -> Fixture:
        pdf = self.pdf
        content = pdf.content_refs()[0]
        x1, y1, x2, y2 = pdf.media_box()
        font = pdf.first_font_name()
        draw = b"q 1 0 0 rg %.2f %.2f 300 40 re f Q\n" % (x1 + 60, y1 + (y2 - y1) * 0.45)
        if font is not None:
            draw += b"BT 1 0 0 rg %s 40 Tf %.2f %.2f Td (%s) Tj ET\n" % (
                font.encode(), x1 + 60, y1 + (y2 - y1) * 0.40, PAYLOAD_TEXT)
        base = pdf.data if pdf.data.endswith((b"\n", b"\r")) else pdf.data + b"\n"
        data = base + b"%d %d obj\n" % (content.idnum, content.generation) + \
            stream_body(b"", draw) + b"\nendobj\n"  # fmt: skip
        return self.fixture("isa_trailing_bytes", "ISA", data,
                            f"a new definition of page 1's content stream {content.idnum} "
                            f"{content.generation} obj (red box"
                            + (f" and '{PAYLOAD_TEXT.decode()}' in the page's font {font}"
                               if font else "") +
                            ") appended after the final %%EOF, with no xref section or "
                            "startxref: only a reader that rebuilds the xref by scanning "
                            "sees it", draws=font is not None)  # fmt: skip

    def isa_linearized_dict(self) -> Fixture:
        pdf = self.pdf
        page_ref, _ = pdf.page1()
        pages = int(pdf.reader.root["/Pages"]["/Count"])
        upd = Update(pdf)
        num = upd.new_num()
        # /L (file length) is only known at the end: written fixed-width, patched below.
        body = (b"<< /Linearized 1 /L 0000000000 /H [0 0] /O %d /E %d /N %d /T %d >>"
                % (page_ref.idnum, len(pdf.data), pages, len(pdf.data)))  # fmt: skip
        upd.add(num, 0, body)
        data = upd.build()
        data = data.replace(b"/L 0000000000", b"/L %010d" % len(data), 1)
        return self.fixture("isa_linearized_dict", "ISA", data,
                            f"incremental update whose first and only object ({num} 0 obj) is "
                            f"a /Linearized dictionary referenced from nowhere (/L = the new "
                            f"file length)")  # fmt: skip

    # -- SWA -------------------------------------------------------------------------------

    def rewrite_byte_range(self, pdf: Signed, sig, values: list[int]) -> bytes:
        start, end = pdf.byte_range_span(sig)
        return pdf.data[:start] + byte_range_text(values, end - start) + pdf.data[end:]

    def swa_moved_second_range(self) -> Fixture:
        pdf, sig = self.pdf, self.target
        a, b, c, d = pdf.byte_range(sig)
        shift = min(16, d)
        data = self.rewrite_byte_range(pdf, sig, [a, b, c + shift, d - shift])
        return self.fixture("swa_moved_second_range", "SWA", data,
                            f"in place: {sig.field_name}'s ByteRange [{a} {b} {c} {d}] -> "
                            f"[{a} {b} {c + shift} {d - shift}] (space-padded to the same "
                            f"width): the second range starts {shift} bytes later, leaving "
                            f"bytes after /Contents unsigned")  # fmt: skip

    def swa_range_past_eof(self) -> Fixture:
        pdf, sig = self.pdf, self.target
        a, b, c, d = pdf.byte_range(sig)
        need = len(pdf.data) - c + 1
        new_d = None
        for cand in (max(d, need) + 4096, 10 ** len(str(d)) - 1, need):
            if cand >= need:
                try:
                    data = self.rewrite_byte_range(pdf, sig, [a, b, c, cand])
                except Skip:
                    continue
                new_d = cand
                break
        if new_d is None:
            raise Skip("no ByteRange past the end of file fits the original width")
        return self.fixture("swa_range_past_eof", "SWA", data,
                            f"in place: {sig.field_name}'s ByteRange [{a} {b} {c} {d}] -> "
                            f"[{a} {b} {c} {new_d}]: c+d = {c + new_d} but the file has "
                            f"{len(data)} bytes")  # fmt: skip

    def swa_gap_enlarged(self) -> Fixture:
        pdf, sig = self.pdf, self.target
        a, b, c, d = pdf.byte_range(sig)
        end = c + d
        rev = sig.signed_revision
        xrefs = pdf.reader.xrefs
        prev_startxref = xrefs.get_startxref_for_revision(rev)
        if not c < prev_startxref < end:
            raise Skip("the signed revision's xref section is not in the second signed range")
        xdata = xrefs.get_xref_data(rev)
        if xdata.xrefs_in_objstm or xdata.hybrid is not None:
            raise Skip("the signed revision keeps objects in object streams")
        trailer = pdf.reader.trailer.flatten(rev)
        if "/Prev" not in trailer:
            raise Skip("the signed revision is the first one")
        br_start, br_end = pdf.byte_range_span(sig)
        opener, closer = b" /SWAPad (", b")"
        pad = prev_startxref - c - len(opener)
        if pad < 1:
            raise Skip(f"only {prev_startxref - c} bytes between /Contents and the signed xref")

        # The hole starts at c and holds: opener, pad, [xref at prev_startxref], objects, closer.
        counter = iter(range(int(trailer["/Size"]), 1 << 30))
        payload = page_payload(pdf, lambda: next(counter), revision=rev)
        size = max(int(trailer["/Size"]), next(counter))
        objects = b"".join(b"\n%d %d obj\n" % (n, g) + body + b"\nendobj" for n, g, body in payload)

        def xref_and_trailer(k: int, object_offsets: dict[int, tuple[int, int]]) -> bytes:
            entries: dict[int, tuple[int, int, str]] = {}
            for num, (gen, off) in xdata.standard_xrefs.items():
                entries[num] = (off + k if off >= c else off, gen, "n")
            for num, next_gen in xdata.freed.items():
                entries[num] = (0, next_gen, "f")
            for num, (gen, off) in object_offsets.items():
                entries[num] = (off, gen, "n")
            return b"xref\n" + xref_subsections(entries) + b"trailer\n" + \
                trailer_dict(trailer, size, int(trailer["/Prev"])) + b"\n"  # fmt: skip

        # Entries are fixed width, so the xref's length does not depend on the offsets.
        dummy = {n: (g, 0) for n, g, _ in payload}
        xref_len = len(xref_and_trailer(0, dummy))
        obj_offsets, pos = {}, prev_startxref + xref_len
        for n, g, body in payload:
            obj_offsets[n] = (g, pos + 1)  # after the leading "\n"
            pos += len(b"\n%d %d obj\n" % (n, g) + body + b"\nendobj")
        k = len(opener) + pad + xref_len + len(objects) + len(closer)
        inner = b" " * pad + xref_and_trailer(k, obj_offsets) + objects
        if b"\\" in inner or not _balanced(inner):
            raise Skip("the new xref section and page do not fit in a literal string")
        hole = opener + inner + closer
        assert len(hole) == k
        new_br = byte_range_text([a, b, c + k, d], br_end - br_start)
        data = bytearray(pdf.data[:end])
        data[br_start:br_end] = new_br
        data = bytes(data[:c]) + hole + bytes(data[c:])
        for n, (g, off) in obj_offsets.items():
            assert data[off:].startswith(b"%d %d obj" % (n, g)), (n, off)
        assert data[prev_startxref:].startswith(b"xref\n")
        cut = "" if end == len(pdf.data) else f" (the input was cut after byte {end}, the end " \
            f"of {sig.field_name}'s revision)"  # fmt: skip
        return self.fixture("swa_gap_enlarged", "SWA", data,
                            f"signature wrapping{cut}: {sig.field_name}'s second signed range "
                            f"moved {k} bytes later and ByteRange [{a} {b} {c} {d}] -> "
                            f"[{a} {b} {c + k} {d}]; the excluded hole after /Contents is a "
                            f"/SWAPad string in the signature dictionary holding, at byte "
                            f"{prev_startxref} where the signed startxref points, a new xref "
                            f"table (signed objects re-offset) and a redefined page 1 drawing "
                            f"'{PAYLOAD_TEXT.decode()}'", draws=True)  # fmt: skip

    def swa_overlapping_gaps(self) -> Fixture:
        first, second, two = self.two_last()
        _, b1, c1, _ = two.byte_range(first)
        a, b, c, d = two.byte_range(second)
        mid = b1 + (c1 - b1) // 2
        data = self.rewrite_byte_range(two, second, [a, mid, c, d])
        return self.fixture("swa_overlapping_gaps", "SWA", data,
                            f"in place: {second.field_name}'s ByteRange [{a} {b} {c} {d}] -> "
                            f"[{a} {mid} {c} {d}]: its gap now starts in the middle of "
                            f"{first.field_name}'s /Contents ({b1}..{c1}) and overlaps that "
                            f"gap", pdf=two, target=second)  # fmt: skip

    # -- others ----------------------------------------------------------------------------

    def sigdict_redefined(self) -> Fixture:
        def mutate(d):
            d[name("/Reason")] = generic.TextStringObject("Approved by Mallory (edited later)")
            d[name("/M")] = generic.TextStringObject("D:20000101000000Z")
            d[name("/Name")] = generic.TextStringObject("Mallory")

        ref = self.pdf.sig_ref(self.target)
        return self.fixture("sigdict_redefined", "SIGDICT", self.redefined_sigdict(mutate),
                            f"incremental update redefining {self.target.field_name}'s signature "
                            f"dictionary {ref.idnum} {ref.generation} obj with /Reason, /M "
                            f"(2000-01-01) and /Name changed; /ByteRange and /Contents byte for "
                            f"byte as signed")  # fmt: skip

    def copied_timestamp(self) -> Fixture:
        first, second, two = self.two_last()
        token = _signature_timestamp(two.cms(first))
        if token is None:
            raise Skip(f"{first.field_name} has no signature timestamp token to copy")
        ci = two.cms(second)
        si = ci["content"]["signer_infos"][0]
        attrs = [attr for attr in (si["unsigned_attrs"] or [])
                 if attr["type"].native != "signature_time_stamp_token"]  # fmt: skip
        had = len(attrs) != len(si["unsigned_attrs"] or [])
        attrs.append(cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]}))
        si["unsigned_attrs"] = cms.CMSAttributes(attrs)
        encoded = ci.dump()
        start, end = two.contents_hex(second)
        if len(encoded) * 2 > end - start:
            raise Skip(f"the CMS with the copied token needs {len(encoded)} bytes, /Contents "
                       f"has room for {(end - start) // 2}")  # fmt: skip
        hexed = encoded.hex().upper().encode()
        data = two.data[:start] + hexed + b"0" * (end - start - len(hexed)) + two.data[end:]
        how = "replaces its own" if had else "added (it had none)"
        return self.fixture("copied_timestamp", "TIMESTAMP", data,
                            f"in place: {first.field_name}'s signature-timestamp token copied "
                            f"into {second.field_name}'s unsigned attributes ({how}); its "
                            f"messageImprint covers {first.field_name}'s signature value, not "
                            f"{second.field_name}'s; same /Contents length",
                            pdf=two, target=second)  # fmt: skip

    def eaa(self, subtype: str) -> Fixture:
        pdf = self.need(self.p3, "--certified-p3")
        cert = pdf.certification(MDPPerm.ANNOTATE)
        upd = Update(pdf)
        label = PAYLOAD_TEXT if subtype == "FreeText" else b"APPROVED - " + PAYLOAD_TEXT
        rect, ap = appearance(pdf, upd, label)
        page_ref, _ = pdf.page1()
        annot = upd.new_num()
        extra = (b"/DA (/Helv 30 Tf 1 0 0 rg) " if subtype == "FreeText"
                 else b"/Name /Approved ")  # fmt: skip
        upd.add(annot, 0, b"<< /Type /Annot /Subtype /%s /Rect %s /Contents (%s) %s/F 4 "
                          b"/P %d %d R /NM (sigillum-eaa-%s) /M (D:20240101000000Z) "
                          b"/AP << /N %d 0 R >> >>"
                % (subtype.encode(), rect_text(rect), label, extra, page_ref.idnum,
                   page_ref.generation, subtype.lower().encode(), ap))  # fmt: skip
        add_to_page_annots(pdf, upd, annot)
        fname = f"eaa_{subtype.lower()}_p3"
        return self.fixture(fname, "EAA", upd.build(),
                            f"incremental update on the P3-certified input adding a {subtype} "
                            f"annotation ({annot} 0 obj, Rect {rect}) whose appearance whites "
                            f"out the top of page 1 and writes '{label.decode()}' over the "
                            f"text there; permitted by DocMDP P3, so a verifier must warn, "
                            f"not fail", pdf=pdf, target=cert, draws=True)  # fmt: skip

    def ssa_new_widget_p2(self) -> Fixture:
        pdf = self.need(self.p2, "--certified-p2")
        cert = pdf.certification(MDPPerm.FILL_FORMS)
        upd = Update(pdf)
        rect, ap = appearance(pdf, upd, PAYLOAD_TEXT)
        page_ref, _ = pdf.page1()
        widget = upd.new_num()
        upd.add(widget, 0, b"<< /FT /Sig /T (SneakySig) /Type /Annot /Subtype /Widget /Rect %s "
                           b"/F 4 /P %d %d R /AP << /N %d 0 R >> >>"
                % (rect_text(rect), page_ref.idnum, page_ref.generation, ap))  # fmt: skip
        new_ref = generic.IndirectObject(widget, 0, None)
        root = pdf.reader.root
        raw_form = root.raw_get("/AcroForm")
        form = raw_form.get_object()
        raw_fields = form.raw_get("/Fields")
        if isinstance(raw_fields, generic.IndirectObject):
            upd.add(raw_fields.idnum, raw_fields.generation,
                    ser(generic.ArrayObject(list(raw_fields.get_object()) + [new_ref])))
        else:
            new_form = copy_dict(form)
            new_form[name("/Fields")] = generic.ArrayObject(list(raw_fields) + [new_ref])
            if isinstance(raw_form, generic.IndirectObject):
                upd.add(raw_form.idnum, raw_form.generation, ser(new_form))
            else:
                new_root = copy_dict(root)
                new_root[name("/AcroForm")] = new_form
                rr = pdf.reader.root_ref
                upd.add(rr.idnum, rr.generation, ser(new_root))
        add_to_page_annots(pdf, upd, widget)
        return self.fixture("ssa_new_widget_p2", "SSA", upd.build(),
                            f"incremental update on the P2-certified input adding an unsigned "
                            f"signature field SneakySig ({widget} 0 obj, field and widget in "
                            f"one, Rect {rect}) to /AcroForm /Fields and page 1's /Annots; its "
                            f"appearance whites out the top of page 1 and writes "
                            f"'{PAYLOAD_TEXT.decode()}'", pdf=pdf, target=cert,
                            draws=True)  # fmt: skip

    def benign(self, char: bytes, fname: str, what: str) -> Fixture:
        return self.fixture(fname, "BENIGN", self.pdf.data + char,
                            f"control: one {what} appended after the final %%EOF; nothing "
                            f"else changed")  # fmt: skip

    def all(self) -> list[tuple[str, Callable[[], Fixture | list[Fixture]]]]:
        usf_names = ["usf_contents_missing", "usf_contents_null", "usf_contents_empty",
                     "usf_contents_wrong_type", "usf_byterange_missing", "usf_byterange_null",
                     "usf_byterange_empty", "usf_byterange_wrong_type"]  # fmt: skip
        return [
            (",".join(usf_names), self.usf_updates),
            ("usf_garbage_cms", self.usf_garbage_cms),
            ("usf_two_signerinfos", self.usf_two_signerinfos),
            ("isa_page_content", self.isa_page_content),
            ("isa_xref_repoint", self.isa_xref_repoint),
            ("isa_xref_mismatched_header", self.isa_xref_mismatched_header),
            ("isa_freed_object", self.isa_freed_object),
            ("isa_eof_in_string", self.isa_eof_in_string),
            ("isa_trailing_bytes", self.isa_trailing_bytes),
            ("isa_linearized_dict", self.isa_linearized_dict),
            ("swa_moved_second_range", self.swa_moved_second_range),
            ("swa_gap_enlarged", self.swa_gap_enlarged),
            ("swa_overlapping_gaps", self.swa_overlapping_gaps),
            ("swa_range_past_eof", self.swa_range_past_eof),
            ("sigdict_redefined", self.sigdict_redefined),
            ("copied_timestamp", self.copied_timestamp),
            ("eaa_freetext_p3", lambda: self.eaa("FreeText")),
            ("eaa_stamp_p3", lambda: self.eaa("Stamp")),
            ("ssa_new_widget_p2", self.ssa_new_widget_p2),
            ("benign_cr_after_eof", lambda: self.benign(b"\r", "benign_cr_after_eof", "CR")),
            ("benign_lf_after_eof", lambda: self.benign(b"\n", "benign_lf_after_eof", "LF")),
        ]


def _balanced(text: bytes) -> bool:
    depth = 0
    for ch in text:
        depth += {0x28: 1, 0x29: -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _without_unsigned(si: cms.SignerInfo) -> cms.SignerInfo:
    """A copy of a SignerInfo with the unsignedAttrs field absent (not an empty SET)."""
    copy = cms.SignerInfo.load(si.dump())
    copy["unsigned_attrs"] = None  # asn1crypto: None on an OPTIONAL field omits it
    return cms.SignerInfo.load(copy.dump())


def _signature_timestamp(ci: cms.ContentInfo):
    si = ci["content"]["signer_infos"][0]
    for attr in si["unsigned_attrs"] or []:
        if attr["type"].native == "signature_time_stamp_token":
            return cms.ContentInfo.load(attr["values"][0].dump())
    return None


# ---- checks and the manifest ---------------------------------------------------------------


@dataclass
class Tools:
    qpdf: str
    pdfsig: str
    pdftotext: str

    @classmethod
    def find(cls) -> Tools:
        def need(tool: str, package: str) -> str:
            found = shutil.which(tool)
            if found is None:
                raise AttackError(f"'{tool}' not found; apt-get install {package}, or "
                                  f"{SETUP_HINT}")  # fmt: skip
            return found

        return cls(need("qpdf", "qpdf"), need("pdfsig", "poppler-utils"),
                   need("pdftotext", "poppler-utils"))  # fmt: skip


def qpdf_check(tools: Tools, path: Path) -> tuple[bool, str | None]:
    proc = subprocess.run([tools.qpdf, "--check", str(path)], capture_output=True, text=True)
    if proc.returncode == 0:
        return True, None
    lines = [line for line in (proc.stderr + proc.stdout).splitlines()
             if line.strip() and not line.startswith(("checking ", "PDF Version", "File is not",
                                                      "R = ", "P = ", "User password",
                                                      "extra-data",
                                                      "Supplied password"))]  # fmt: skip
    text = " | ".join(lines[:4]).replace(f"{path}: ", "").replace(f"{path} ", "")
    return False, f"exit {proc.returncode}: {text}"


def payload_rendered(tools: Tools, path: Path) -> bool | None:
    proc = subprocess.run([tools.pdftotext, "-q", "-f", "1", "-l", "1", str(path), "-"],
                          capture_output=True, timeout=120)  # fmt: skip
    if proc.returncode != 0:
        return None
    return b"PAID" in proc.stdout


SHORT = ("field", "judged", "intact", "valid", "coverage", "modification_level", "docmdp_ok",
         "timestamp_valid", "error")  # fmt: skip


def judge(tools: Tools, fx: Fixture, path: Path, roots: list) -> dict[str, Any]:
    pdfsig = peer_verdicts.pdfsig_verdicts(path, tools.pdfsig)
    target_pdfsig = next((s for s in pdfsig["signatures"] if s["field"] == fx.target), None)
    pyh = peer_verdicts.pyhanko_verdicts(path, roots)
    target_pyh = next((s for s in pyh["signatures"] if s["field"] == fx.target), None)
    if target_pyh is None:
        target_pyh = {"field": fx.target, "error": pyh["error"] or "pyHanko lists no such "
                      "signed field"}  # fmt: skip
    return {
        "pdfsig_says_valid": bool(target_pdfsig and target_pdfsig["valid"]),
        "pdfsig": target_pdfsig or {"error": pdfsig["error"] or "pdfsig lists no such field"},
        "pyhanko": target_pyh,
        "pyhanko_signatures": [{k: s.get(k) for k in SHORT} for s in pyh["signatures"]],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("signed", type=Path, metavar="SIGNED.pdf")
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--prefix", help="file name prefix (default: SIGNED.pdf's stem)")
    parser.add_argument("--certified-p2", type=Path, metavar="FILE",
                        help="a PDF certified with DocMDP P2 (for ssa_new_widget_p2)")
    parser.add_argument("--certified-p3", type=Path, metavar="FILE",
                        help="a PDF certified with DocMDP P3 (for eaa_*_p3)")
    parser.add_argument("--two-signatures", type=Path, metavar="FILE",
                        help="a PDF with at least two signatures (swa_overlapping_gaps, "
                             "copied_timestamp, and isa_xref_repoint as a fallback)")
    parser.add_argument("--trust-root", action="append", default=[], metavar="ROOT.pem",
                        help="root(s) pyHanko trusts when recording its verdicts (default: "
                             "none; intact/coverage/modification verdicts do not need one)")
    args = parser.parse_args()  # fmt: skip
    logging.basicConfig(level=logging.CRITICAL, stream=sys.stderr)
    prefix = args.prefix or args.signed.stem
    if not re.fullmatch(r"[A-Za-z0-9._+-]+", prefix):
        parser.error("--prefix may only hold letters, digits and ._+-")
    start = time.monotonic()
    roots: list = []
    manifest_path = args.out_dir / "manifest.json"
    manifest: dict[str, list] = {"fixtures": [], "skipped": []}
    try:
        if manifest_path.is_file():
            # Runs with other prefixes share OUT_DIR; never clobber another tool's manifest.
            old = json.loads(manifest_path.read_text())
            if not (isinstance(old, dict) and isinstance(old.get("fixtures"), list)):
                raise AttackError(f"{manifest_path} exists and is not an attacks.py manifest; "
                                  f"use another OUT_DIR")  # fmt: skip
            for key in manifest:
                manifest[key] = [e for e in old.get(key, []) if e.get("prefix") != prefix]
        if args.trust_root:
            roots = list(load_certs_from_pemder(args.trust_root))
        tools = Tools.find()
        inputs = {}
        for key, path in (("signed", args.signed), ("p2", args.certified_p2),
                          ("p3", args.certified_p3), ("two", args.two_signatures)):  # fmt: skip
            if path is not None and not path.is_file():
                parser.error(f"{path}: no such file")
            inputs[key] = Signed(path) if path is not None else None
        maker = Maker(inputs["signed"], inputs["p2"], inputs["p3"], inputs["two"])
        args.out_dir.mkdir(parents=True, exist_ok=True)
        fixtures: list[Fixture] = []
        skipped: list[dict[str, Any]] = []
        for names, make in maker.all():
            try:
                made = make()
            except Skip as e:
                for n in names.split(","):
                    skipped.append({"name": n, "prefix": prefix, "input": str(args.signed),
                                    "reason": str(e)})  # fmt: skip
                continue
            fixtures.extend(made if isinstance(made, list) else [made])

        entries, failures = [], []
        for fx in fixtures:
            path = args.out_dir / f"{prefix}_{fx.name}.pdf"
            path.write_bytes(fx.data)
            ok, message = qpdf_check(tools, path)
            malformed = fx.name in MALFORMED
            if not ok and not malformed:
                failures.append(f"{path.name}: qpdf --check fails: {message}")
            entry = {
                "name": fx.name,
                "file": path.name,
                "prefix": prefix,
                "input": fx.input,
                "class": fx.cls,
                "target_field": fx.target,
                "expected_integrity": EXPECTED[fx.cls],
                "qpdf_ok": ok,
                "qpdf_message": message,
                "malformed": malformed,
                "description": fx.description,
            }
            entry.update(judge(tools, fx, path, roots))
            entry["payload_rendered"] = payload_rendered(tools, path) if fx.draws else None
            entries.append(entry)
    except AttackError as e:
        print(f"attacks: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print(f"attacks: {type(e).__name__}: {e}", file=sys.stderr)
        return 1

    manifest["fixtures"] += entries
    manifest["skipped"] += skipped
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    for s in skipped:
        print(f"attacks: skipped {prefix}_{s['name']}: {s['reason']}", file=sys.stderr)
    print(f"attacks: {len(entries)} fixtures, {len(skipped)} skipped, in {args.out_dir} "
          f"({time.monotonic() - start:.1f} s)", file=sys.stderr)  # fmt: skip
    if failures:
        for f in failures:
            print(f"attacks: {f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
