"""Evidence files as a reporter's phone or computer makes them: with the reporter's metadata.

Each sample holds a location (Semarang, 6°58' S 110°25' E), a device (make, model, serial) or
an author, and a date, written the way phones and office programs write them: EXIF with GPS in
photos (Pillow, pillow-heif), location, make and model atoms in videos (PyAV, then exiftool),
document information and XMP in a PDF (pikepdf). And the decoders the tests compare with: the
pixels of a photo, the packets of a video's stream, the content of a PDF's pages.
"""

from __future__ import annotations

import io
import json
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import pikepdf
import pillow_heif
from PIL import Image, ImageCms
from PIL.ExifTags import GPS, IFD, Base
from PIL.PngImagePlugin import PngInfo

pillow_heif.register_heif_opener()

#: Strings of the reporter that no stored file may hold.
NAME = "Budi Santoso"
MAKE, MODEL, SERIAL = "Samsung", "SM-A515F", "R58N91XYZ"
PHONE_MAKE, PHONE_MODEL = "Apple", "iPhone 12"
WHEN = "2024:11:02 08:15:00"
TRACES = (NAME, MAKE, MODEL, SERIAL, PHONE_MAKE, PHONE_MODEL, "2024:11:02", "2024-11-02")
#: exiftool's tags that would tell who took a file, where, with what, when (any group).
IDENTIFYING_TAGS = frozenset(
    {
        "GPSLatitude",
        "GPSLongitude",
        "GPSPosition",
        "GPSCoordinates",
        "LocationInformation",
        "Make",
        "Model",
        "SerialNumber",
        "BodySerialNumber",
        "Author",
        "Creator",
        "Comment",
        "DateTimeOriginal",
        "CreateDate",
        "ModifyDate",
        "TrackCreateDate",
        "MediaCreateDate",
    }
)
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Budi Santoso</dc:creator>'
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)


@dataclass(frozen=True)
class Sample:
    """One evidence file with metadata: its name, bytes, and the media type it sniffs as."""

    name: str
    data: bytes
    media_type: str


def exif() -> Image.Exif:
    """A phone's EXIF: make, model, serial, date, GPS position, portrait orientation."""
    tags = Image.Exif()
    tags[Base.Make], tags[Base.Model], tags[Base.Orientation] = MAKE, MODEL, 6
    tags[Base.DateTime] = WHEN
    tags.get_ifd(IFD.Exif)[Base.BodySerialNumber] = SERIAL
    tags.get_ifd(IFD.Exif)[Base.DateTimeOriginal] = WHEN
    gps = tags.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef], gps[GPS.GPSLatitude] = "S", (6.0, 58.0, 12.5)
    gps[GPS.GPSLongitudeRef], gps[GPS.GPSLongitude] = "E", (110.0, 24.0, 33.3)
    return tags


def picture() -> Image.Image:
    """A 64x48 picture of many colours (so that a change of any pixel would show)."""
    image = Image.new("RGB", (64, 48))
    image.putdata([(x * 4, y * 5, (x * y) % 256) for y in range(48) for x in range(64)])
    return image


def photo(kind: str) -> Sample:
    """A photo of ``kind`` (jpeg, png, webp, heic) with the phone's EXIF and more."""
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    image = picture()
    if kind == "jpeg":
        image.save(out, "JPEG", exif=exif(), icc_profile=icc, quality=90, comment=NAME.encode())
    elif kind == "png":
        text = PngInfo()
        text.add_text("Author", NAME)
        text.add_itxt("Comment", f"rumah {NAME}", lang="id")
        image.save(out, "PNG", exif=exif(), pnginfo=text, icc_profile=icc)
    elif kind == "webp":
        image.save(out, "WEBP", exif=exif(), icc_profile=icc, xmp=XMP, lossless=True)
    else:
        image.save(out, "HEIF", exif=exif(), quality=90)
    return Sample(f"IMG_0001.{kind}", out.getvalue(), f"image/{kind}")


def video(kind: str) -> Sample:
    """A 1-second video (``mp4`` or ``mov``) with a location, the phone and the author."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"v.{kind}"
        with av.open(str(path), "w", format=kind) as container:
            container.metadata["creation_time"] = "2024-11-02T08:15:00Z"
            stream = container.add_stream("mpeg4", rate=10)
            stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
            stream.time_base = Fraction(1, 10)
            for shade in range(10):
                image = Image.new("RGB", (64, 48), (shade * 20, 90, 200 - shade * 10))
                frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        subprocess.run(
            [
                "exiftool",
                "-q",
                "-overwrite_original",
                "-Keys:GPSCoordinates=-6.97, 110.42",
                "-UserData:GPSCoordinates=-6.97, 110.42",
                f"-Keys:Make={PHONE_MAKE}",
                f"-Keys:Model={PHONE_MODEL}",
                f"-UserData:Make={PHONE_MAKE}",
                f"-UserData:Model={PHONE_MODEL}",
                f"-XMP:Creator={NAME}",
                str(path),
            ],
            check=True,
            timeout=60,
        )
        media_type = "video/mp4" if kind == "mp4" else "video/quicktime"
        return Sample(f"VID_0001.{kind}", path.read_bytes(), media_type)


def document() -> Sample:
    """A one-page PDF naming its author in its document information and its XMP."""
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(200, 200))
        pdf.pages[0].Contents = pdf.make_stream(b"BT 20 100 Td (Undangan kampanye) Tj ET")
        pdf.docinfo["/Author"] = NAME
        pdf.docinfo["/CreationDate"] = "D:20241102081500+07'00'"
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:creator"] = [NAME]
        out = io.BytesIO()
        pdf.save(out)
        return Sample("undangan.pdf", out.getvalue(), "application/pdf")


def tags_of(data: bytes) -> dict[str, object]:
    """Every tag exiftool reads in ``data``, by group and name, but those of the file system."""
    done = subprocess.run(
        ["exiftool", "-j", "-a", "-G1", "-"], input=data, capture_output=True, timeout=60
    )
    (found,) = json.loads(done.stdout)
    skipped = ("System:", "ExifTool:", "File:", "Composite:", "SourceFile")
    return {tag: value for tag, value in found.items() if not tag.startswith(skipped)}


def identifying(data: bytes) -> list[str]:
    """The tags of ``data`` that tell who took it, where, with what, or when."""
    found = []
    for tag, value in tags_of(data).items():
        zero = isinstance(value, str) and value.startswith("0000:00:00")
        if tag.split(":")[-1] in IDENTIFYING_TAGS and not zero:
            found.append(tag)
    return found


def pixels(data: bytes) -> tuple[tuple[int, int], bytes]:
    """The decoded size and pixels of a photo."""
    with Image.open(io.BytesIO(data)) as image:
        return image.size, image.tobytes()


def packets(data: bytes) -> list[bytes]:
    """The packets of a video's stream, as coded: what a player decodes."""
    with av.open(io.BytesIO(data), "r") as container:
        return [bytes(packet) for packet in container.demux(video=0) if packet.size]


def jpeg_scan(data: bytes) -> bytes:
    """A JPEG's entropy-coded data: from its first start-of-scan marker to its end."""
    return data[data.index(b"\xff\xda") :]


def pages(data: bytes) -> list[bytes]:
    """The content of each page of a PDF."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [page.Contents.read_bytes() for page in pdf.pages]
