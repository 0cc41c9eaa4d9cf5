#!/usr/bin/env python3
"""Build the interoperability corpus: PDFs made by independent tools only.

Usage: make_corpus.py OUT_DIR

Every input the Rust interop tests sign comes from a producer that shares no code with
sigillum: ReportLab, Ghostscript (ps2pdf), qpdf and pyHanko. That way a parser or writer bug
in sigillum cannot be hidden by a corpus that the same bug wrote. OUT_DIR/manifest.json
lists one object per file:

    {"name", "file", "pages", "keyword", "keyword_page", "empty_signature_field",
     "field_page", "presigned", "note"}

`keyword` occurs as text on page `keyword_page`; `empty_signature_field` names an unsigned
signature field whose widget is on page `field_page`; `presigned` files already carry a
signature that chains to no root the tests trust.

The run is reproducible: ReportLab runs in invariant mode, Ghostscript gets a fixed
SOURCE_DATE_EPOCH and no /ID, qpdf derives /ID from content, and the noise images come from
a seeded RNG. What pyHanko writes is not: `pyhanko_signed` and `pyhanko_certified` carry a
new throwaway key and signing time on every run, and every pyHanko incremental update
(including `reportlab_acroform`'s) draws the second half of the trailer /ID at random.

Not in the corpus: a hybrid-reference file (classic xref table whose trailer also points at
an xref stream via /XRefStm). None of the producers here writes one (qpdf reads them but
never writes them; Ghostscript 10.0 and ReportLab write classic tables only), and writing
one by hand would defeat the point of an independent corpus.

Each output must pass `qpdf --check`, have the page count the manifest claims, and (checked
with poppler's pdftotext, yet another independent reader) show the keyword on the page the
manifest names; the script exits non-zero with a message otherwise. A missing tool is an
error with an install hint, never a silent skip.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

SETUP_HINT = "run scripts/setup.sh test (installs it)"
KEYWORD = "Signature of Party A"
# A4 in points; ReportLab's constant is the same, spelled out so the PostScript agrees.
A4_W, A4_H = 595.2755905511812, 841.8897637795277
# Ghostscript stamps the run time into /CreationDate and XMP; a fixed epoch keeps it stable.
SOURCE_DATE_EPOCH = "1700000000"
# 20 MiB: the size the appliance's upload limit tests are written against.
LARGE_MIN_BYTES = 20 * 1024 * 1024

try:
    from PIL import Image
    from reportlab import rl_config
    from reportlab.lib.utils import ImageReader, simpleSplit
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas
except ImportError as e:  # pragma: no cover - depends on the environment
    sys.exit(f"make_corpus: {e.name} is missing; {SETUP_HINT} and use its venv's python")

# ASCII85 would only inflate the 20 MB file by a quarter and cost time; nothing to test there.
rl_config.useA85 = 0

LOREM = (
    "This agreement is made between Party A and Party B. Each party declares that it has "
    "read the terms below, that the statements made in it are true, and that it signs of "
    "its own free will. The terms take effect on the day of the last signature and remain "
    "in force until either party ends them in writing with thirty days notice. "
)


@dataclass
class Entry:
    name: str
    file: str
    pages: int
    keyword: str | None
    keyword_page: int | None
    empty_signature_field: str | None
    field_page: int | None
    presigned: bool
    note: str


class CorpusError(Exception):
    pass


def tool(name: str, hint: str) -> str:
    """Absolute path of a command-line tool; looks beside this Python first (the venv)."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise CorpusError(f"'{name}' not found; {hint}")
    return found


def run(*cmd: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise CorpusError(
            f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}{proc.stderr}"
        )
    return proc.stdout


# ---- ReportLab producers -------------------------------------------------------------


def new_canvas(path: Path) -> canvas.Canvas:
    # invariant=1 fixes the dates and /ID ReportLab would otherwise take from the clock.
    return canvas.Canvas(str(path), pagesize=(A4_W, A4_H), invariant=1)


def draw_paragraphs(c: canvas.Canvas, top: float, count: int, width: float = A4_W) -> float:
    """Body text between 1-inch margins of a page `width` wide; returns the y below it."""
    y = top
    for i in range(count):
        for line in simpleSplit(f"{i + 1}. {LOREM}", "Helvetica", 11, width - 144):
            c.setFont("Helvetica", 11)
            c.drawString(72, y, line)
            y -= 14
        y -= 8
    return y


def reportlab_simple(path: Path) -> None:
    c = new_canvas(path)
    c.setTitle("reportlab_simple")
    c.setFont("Helvetica-Bold", 16)
    c.drawString(72, A4_H - 72, "Service agreement")
    y = draw_paragraphs(c, A4_H - 110, 4)
    c.setFont("Helvetica", 12)
    c.drawString(72, y - 40, KEYWORD)
    c.line(72, y - 80, 300, y - 80)
    c.showPage()
    c.save()


def reportlab_rotated(path: Path) -> None:
    c = new_canvas(path)
    for page, rotate in enumerate((0, 90, 180, 270), start=1):
        c.setPageRotation(rotate)
        # ReportLab writes the MediaBox of a /Rotate 90 or 270 page as landscape (842 x 595),
        # so a viewer shows it portrait with the text running up or down the screen; the
        # drawing coordinates are the MediaBox's, hence the swapped size here.
        width, height = (A4_H, A4_W) if rotate in (90, 270) else (A4_W, A4_H)
        # Page 3 only: a CropBox inset from the MediaBox, so "visible page" != MediaBox.
        c.setCropBox((36, 48, width - 36, height - 48) if page == 3 else None)
        c.setFont("Helvetica-Bold", 16)
        c.drawString(72, height - 90, f"Page {page}: /Rotate {rotate}")
        y = draw_paragraphs(c, height - 130, 2, width)
        if page == 2:
            c.setFont("Helvetica", 12)
            c.drawString(72, y - 40, KEYWORD)
        c.showPage()
    c.save()


def reportlab_acroform_base(path: Path) -> None:
    c = new_canvas(path)
    c.setFont("Helvetica-Bold", 16)
    c.drawString(72, A4_H - 72, "Application form")
    form = c.acroForm
    c.setFont("Helvetica", 11)
    c.drawString(72, A4_H - 120, "Full name:")
    form.textfield(
        name="full_name",
        x=160,
        y=A4_H - 128,
        width=300,
        height=20,
        value="Jane Example",
        borderStyle="inset",
        forceBorder=True,
    )
    c.drawString(72, A4_H - 160, "City:")
    form.textfield(
        name="city",
        x=160,
        y=A4_H - 168,
        width=300,
        height=20,
        borderStyle="inset",
        forceBorder=True,
    )
    c.drawString(72, A4_H - 200, "I accept the terms:")
    form.checkbox(
        name="accept",
        x=200,
        y=A4_H - 206,
        size=16,
        checked=True,
        buttonStyle="check",
        forceBorder=True,
    )
    y = draw_paragraphs(c, A4_H - 250, 2)
    c.setFont("Helvetica", 12)
    c.drawString(72, y - 30, KEYWORD)
    c.showPage()
    c.save()


def reportlab_cjk(path: Path) -> None:
    font_file = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    if not font_file.is_file():
        raise CorpusError(f"{font_file} is missing (Debian fonts-wqy-microhei); {SETUP_HINT}")
    # Embedded as a subset with Identity-H-like encoding: the page's text bytes are glyph
    # ids, so only the ToUnicode map tells what the CJK text says. The keyword stays in
    # Helvetica (single-byte WinAnsi) so it can still be located as literal text.
    pdfmetrics.registerFont(TTFont("WQYMicroHei", str(font_file), subfontIndex=0))
    c = new_canvas(path)
    c.setFont("WQYMicroHei", 16)
    c.drawString(72, A4_H - 72, "合同 / 契約書 — 电子签名测试")
    c.setFont("WQYMicroHei", 12)
    c.drawString(72, A4_H - 100, "甲方与乙方就以下条款达成一致。本合同自双方签字之日起生效。")
    y = draw_paragraphs(c, A4_H - 140, 2)
    c.setFont("Helvetica", 12)
    c.drawString(72, y - 40, KEYWORD)
    c.setFont("WQYMicroHei", 12)
    c.drawString(72, y - 60, "甲方签字")
    c.showPage()
    c.save()


def large_noise(path: Path, pages: int = 6, side: int = 1024) -> None:
    # Random noise defeats every compressor, so the file really is this big on the wire.
    # Baseline JPEG at quality 100 without chroma subsampling is bigger than the raw pixels
    # and, unlike Flate, is cheap to produce and passed through by ReportLab unchanged.
    rng = random.Random(20240521)
    c = new_canvas(path)
    for page in range(1, pages + 1):
        img = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=100, subsampling=0)
        buf.seek(0)
        c.drawImage(ImageReader(buf), 50, 150, A4_W - 100, A4_W - 100)
        c.setFont("Helvetica", 12)
        c.drawString(72, A4_H - 72, KEYWORD if page == 1 else f"Annex image {page}")
        c.showPage()
    c.save()


# ---- Ghostscript ---------------------------------------------------------------------


def postscript_source(pages: int = 3) -> str:
    def ps_str(s: str) -> str:
        return "(" + s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"

    out = [
        "%!PS-Adobe-3.0",
        f"%%Pages: {pages}",
        f"<< /PageSize [{A4_W:.2f} {A4_H:.2f}] >> setpagedevice",
        "%%EndProlog",
    ]
    for page in range(1, pages + 1):
        out += [
            f"%%Page: {page} {page}",
            "/Times-Bold findfont 18 scalefont setfont",
            f"72 {A4_H - 80:.2f} moveto {ps_str(f'Statement, page {page} of {pages}')} show",
            "/Times-Roman findfont 11 scalefont setfont",
        ]
        y = A4_H - 120
        for line in simpleSplit(LOREM * 2, "Times-Roman", 11, A4_W - 144):
            out.append(f"72 {y:.2f} moveto {ps_str(line)} show")
            y -= 14
        if page == 1:
            out += [
                "/Helvetica findfont 12 scalefont setfont",
                f"72 {y - 40:.2f} moveto {ps_str(KEYWORD)} show",
            ]
        out.append("showpage")
    out.append("%%EOF")
    return "\n".join(out) + "\n"


def ps2pdf(ps_path: Path, out: Path, ps2pdf_cmd: str) -> None:
    ps_path.write_text(postscript_source(), encoding="ascii")
    env = dict(os.environ, SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH)
    # Ghostscript's /ID mixes in the clock even with SOURCE_DATE_EPOCH; -dOmitID keeps the
    # file reproducible, and a trailer without /ID is a legitimate PDF 1.4 case to cover.
    run(ps2pdf_cmd, "-dOmitID", str(ps_path), str(out), env=env)


# ---- checks --------------------------------------------------------------------------


def check_file(path: Path, entry: Entry, qpdf: str, pdftotext: str) -> None:
    proc = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise CorpusError(
            f"{entry.name}: qpdf --check failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
        )
    pages = int(run(qpdf, "--show-npages", str(path)).strip())
    if pages != entry.pages:
        raise CorpusError(f"{entry.name}: {pages} pages, manifest says {entry.pages}")
    if entry.keyword is not None:
        p = str(entry.keyword_page)
        text = run(pdftotext, "-q", "-f", p, "-l", p, str(path), "-")
        if entry.keyword not in " ".join(text.split()):
            raise CorpusError(f"{entry.name}: pdftotext finds no {entry.keyword!r} on page {p}")


def structure_claims(path: Path, name: str, qpdf: str) -> None:
    """The qpdf variants exist for their structure; make sure they have it."""
    data = path.read_bytes()
    if name.endswith("_objstm") and not (b"/ObjStm" in data and b"/XRef" in data):
        raise CorpusError(f"{name}: expected object streams and an xref stream")
    if name.endswith("_linearized"):
        out = run(qpdf, "--check-linearization", str(path))
        if "no linearization errors" not in out:
            raise CorpusError(f"{name}: qpdf --check-linearization says: {out.strip()}")
    if name.endswith("_qdf") and b"%QDF-1.0" not in data[:200]:
        raise CorpusError(f"{name}: expected a QDF file")


# ---- main ----------------------------------------------------------------------------


def build(out_dir: Path) -> list[Entry]:
    qpdf = tool("qpdf", "apt-get install qpdf, or " + SETUP_HINT)
    ps2pdf_cmd = tool("ps2pdf", "apt-get install ghostscript, or " + SETUP_HINT)
    pdftotext = tool("pdftotext", "apt-get install poppler-utils, or " + SETUP_HINT)
    openssl = tool("openssl", "apt-get install openssl, or " + SETUP_HINT)
    pyhanko = tool("pyhanko", "pip install pyhanko-cli into the venv, or " + SETUP_HINT)

    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="sigillum-corpus-"))
    entries: list[Entry] = []

    def add(name: str, pages: int, note: str, *, keyword_page: int | None = 1,
            field: str | None = None, field_page: int | None = None,
            presigned: bool = False) -> Path:  # fmt: skip
        keyword = KEYWORD if keyword_page else None
        entries.append(Entry(name=name, file=f"{name}.pdf", pages=pages, keyword=keyword,
                             keyword_page=keyword_page, empty_signature_field=field,
                             field_page=field_page, presigned=presigned, note=note))  # fmt: skip
        return out_dir / f"{name}.pdf"

    # A throwaway signer for the pre-existing signatures. It chains to nothing the tests
    # trust, which is the point: they judge only the signature sigillum adds.
    key, cert = scratch / "prior.key.pem", scratch / "prior.cert.pem"
    pemder = ["pemder", "--key", str(key), "--cert", str(cert), "--no-pass"]

    def pyhanko_sign(field: str, src: Path, dst: Path, *extra: str) -> None:
        run(pyhanko, "sign", "addsig", "--field", field, "--use-pades", *extra, *pemder,
            str(src), str(dst))  # fmt: skip

    def certify(src: Path, dst: Path) -> None:
        with_field = scratch / "approve_base.pdf"
        run(pyhanko, "sign", "addfields", "--field", "1/330,40,550,100/Approve", str(src),
            str(with_field))  # fmt: skip
        pyhanko_sign("CertSig", with_field, dst, "--certify", "--reason", "certified original")

    try:
        run(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "3650", "-keyout", str(key), "-out", str(cert),
            "-subj", "/CN=Corpus Prior Signer/O=sigillum test corpus",
            "-addext", "keyUsage=critical,digitalSignature,nonRepudiation",
            "-addext", "basicConstraints=critical,CA:FALSE")  # fmt: skip

        # External tools (Ghostscript, pyHanko with its slow start, qpdf) run in the
        # background while ReportLab, which keeps global state and so stays on this thread,
        # draws.
        with ThreadPoolExecutor(max_workers=3) as pool:
            jobs = []
            dst = add("ps2pdf", 3,
                      "PostScript written here, converted by Ghostscript ps2pdf: classic xref, "
                      "PDF 1.4, embedded subset Type 1C fonts (Times/Helvetica substitutes), "
                      "text drawn with the ' operator, no /ID in the trailer")  # fmt: skip
            jobs.append(pool.submit(ps2pdf, scratch / "statement.ps", dst, ps2pdf_cmd))

            simple = add("reportlab_simple", 1,
                         "ReportLab canvas, A4, Helvetica (standard 14, not embedded), classic "
                         "xref table, single revision")  # fmt: skip
            reportlab_simple(simple)

            dst = add("pyhanko_signed", 1,
                      "reportlab_simple with one approval signature (PAdES B-B, new visible "
                      "field PriorSig on page 1) by pyHanko with a throwaway self-signed EC "
                      "key: untrusted on purpose; differs on every run",
                      presigned=True)  # fmt: skip
            jobs.append(pool.submit(pyhanko_sign, "1/350,40,550,90/PriorSig", simple, dst,
                                    "--reason", "prior approval"))  # fmt: skip

            # Certified (DocMDP P=2) with a prepared approval field: the case in which how
            # sigillum adds its signature decides whether the certification still holds.
            dst = add("pyhanko_certified", 1,
                      "reportlab_simple + empty field Approve (pyhanko sign addfields), then "
                      "certified by pyHanko (invisible field CertSig, DocMDP P=2: form filling "
                      "and signing allowed; throwaway key, untrusted; differs on every run). "
                      "pyHanko's diff analysis accepts signing Approve or a new invisible "
                      "field, but flags a new visible field as an illegal modification of the "
                      "certified document",
                      field="Approve", field_page=1, presigned=True)  # fmt: skip
            jobs.append(pool.submit(certify, simple, dst))

            reportlab_rotated(add(
                "reportlab_rotated", 4,
                "ReportLab; pages have /Rotate 0, 90, 180, 270 (MediaBox 595x842, 842x595, "
                "595x842, 842x595: ReportLab swaps it for 90/270); page 3 has a CropBox inset "
                "36/48 pt from its MediaBox; keyword on page 2 (/Rotate 90)",
                keyword_page=2))  # fmt: skip
            reportlab_cjk(add(
                "reportlab_cjk", 1,
                "ReportLab; CJK text in an embedded TrueType subset (WenQuanYi Micro Hei, "
                "two-byte glyph ids + ToUnicode) next to the keyword in Helvetica"))  # fmt: skip

            acro_base = scratch / "acroform_base.pdf"
            reportlab_acroform_base(acro_base)
            dst = add("reportlab_acroform", 1,
                      "ReportLab AcroForm (text fields full_name, city; checkbox accept), then "
                      "`pyhanko sign addfields` appended the empty signature field Sig1 in an "
                      "incremental update (2 revisions; the second /ID half is random)",
                      field="Sig1", field_page=1)  # fmt: skip
            jobs.append(pool.submit(run, pyhanko, "sign", "addfields", "--field",
                                    "1/350,60,550,120/Sig1", str(acro_base), str(dst)))  # fmt: skip

            large_noise(add(
                "large_20mb", 6,
                "ReportLab; 6 pages of incompressible noise JPEGs (seeded RNG), >= 20 MiB; "
                "keyword on page 1"))  # fmt: skip
            for job in jobs:
                job.result()

            # qpdf re-serialisations of two unrelated producers' output. --deterministic-id
            # derives /ID from the content, so reruns stay byte-identical.
            variants = [
                ("objstm", ["--object-streams=generate"],
                 "qpdf --object-streams=generate: xref stream + object streams"),
                ("linearized", ["--linearize"], "qpdf --linearize: linearized"),
                ("qdf", ["--qdf", "--object-streams=disable"],
                 "qpdf --qdf --object-streams=disable: QDF, uncompressed, classic xref"),
            ]  # fmt: skip
            jobs = []
            for src_name, pages in (("reportlab_simple", 1), ("ps2pdf", 3)):
                for suffix, args, what in variants:
                    dst = add(f"{src_name}_{suffix}", pages, f"{src_name} rewritten by {what}")
                    src = out_dir / f"{src_name}.pdf"
                    jobs.append(pool.submit(run, qpdf, "--deterministic-id", *args, str(src),
                                            str(dst)))  # fmt: skip
            for job in jobs:
                job.result()

            checks = [pool.submit(check_file, out_dir / e.file, e, qpdf, pdftotext)
                      for e in entries]  # fmt: skip
            for job in checks:
                job.result()
        for e in entries:
            structure_claims(out_dir / e.file, e.name, qpdf)
        size = (out_dir / "large_20mb.pdf").stat().st_size
        if size < LARGE_MIN_BYTES:
            raise CorpusError(f"large_20mb: only {size} bytes, want >= {LARGE_MIN_BYTES}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    entries.sort(key=lambda e: e.name)
    return entries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="directory for the PDFs and manifest.json")
    args = parser.parse_args()
    start = time.monotonic()
    try:
        entries = build(args.out_dir)
    except CorpusError as e:
        print(f"make_corpus: {e}", file=sys.stderr)
        return 1
    manifest = args.out_dir / "manifest.json"
    manifest.write_text(json.dumps([asdict(e) for e in entries], indent=2) + "\n")
    print(
        f"make_corpus: {len(entries)} files in {args.out_dir} ({time.monotonic() - start:.1f} s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
