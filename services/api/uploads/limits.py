"""What an upload may be. One place, so the API, its docs and the tests agree."""
from __future__ import annotations

MiB = 1024 * 1024
GiB = 1024 * MiB

MAX_SIZE = {"video": 8 * GiB, "audio": 1 * GiB, "document": 300 * MiB, "image": 50 * MiB,
            "subtitle": 2 * MiB}  # services/common/subtitles.py MAX_BYTES
LARGEST = max(MAX_SIZE.values())

# Parts sent to blob storage: above S3's 5 MiB floor, and small, since an upload holds several
# in memory: 16 MiB parts took a 2 GiB upload's RSS growth to the 64 MiB limit (measured,
# docs/benchmarks.md).
PART_SIZE = 8 * MiB

# Parts an upload holds in memory at most: the one filling, and whole ones being sent (two at a
# time) or waiting. Past it the oldest waiting part goes to the spool's file and is read back
# when its turn comes (spool.py). Up to 6 × PART_SIZE per upload with those read-back buffers.
PARTS_IN_MEMORY = 4

# Received bytes an upload may hold in its spool while they wait to be sent as parts. MinIO here
# takes parts more slowly than a fast client sends them (the backlog reached 35 parts, measured),
# so without a bound a whole 8 GiB recording could pile up on the API's scratch disk. Past it, the
# request stops reading until parts are sent, and TCP slows the client down.
SPOOL_BACKLOG = 128 * MiB

EXPIRES_AFTER_S = 24 * 3600      # an upload untouched this long is abandoned
LOCK_LEASE_S = 15 * 60           # a PATCH holding the lock longer than this is presumed dead

# Office files are zip archives; these bound what opening one may cost.
ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_TOTAL_UNCOMPRESSED = 1 * GiB
ZIP_MAX_RATIO = 200              # uncompressed/compressed, for entries over 1 MiB
ZIP_MAX_XML_PART = 64 * MiB

IMAGE_MAX_SIDE = 16_384
IMAGE_MAX_PIXELS = 60_000_000
IMAGE_MAX_ASPECT = 50            # 1×60000 is not a picture of anything a class needs

# Archives inside Office files (embedded workbooks, documents, zips).
ZIP_MAX_DEPTH = 2                # an Excel chart inside a slide deck is one archive in another
ZIP_MAX_NESTED = 64 * MiB        # an archive inside an Office file is checked in memory up to this

IMAGE_MAX_FRAMES = 500           # an animated picture: every frame is decoded to show it
IMAGE_MAX_FRAME_PIXELS = 1_000_000_000  # all frames' pixels together

# PDFs (checks_pdf.py). Pages past PDF's own size limit (200 inches) are absurd, not posters.
PDF_MAX_PAGES = 5_000
PDF_MAX_PAGE_TREE_NODES = 20_000
PDF_MAX_PAGE_SIDE_PT = 14_400
PDF_MAX_OBJECTS = 500_000
PDF_MAX_STREAM_EXPANDED = 128 * MiB  # one content or data stream, decompressed
PDF_MAX_EXPANDED = 2 * GiB           # all of them
PDF_MAX_IMAGE_PIXELS = IMAGE_MAX_PIXELS

# The child process the checks of documents and pictures run in (inspector.py).
INSPECT_TIME_S = 120
INSPECT_MEMORY = 2 * GiB


