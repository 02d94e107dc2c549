"""Every cap on what one request, file or user input may cost, stated once.

These bound the work a stranger can ask of a public server (and a damaged file of a CLI run):
the app, the CLI and the core check against these names, and docs/SECURITY.md lists them.
"""

from __future__ import annotations

# Files read from users: params files, sliders.json, dataset manifests, recipes.
MAX_JSON_BYTES = 4_000_000  # sliders.json of 64 sliders and a 1000-coefficient model is ~0.1 MB
MAX_JSON_DEPTH = 32  # deeper nesting is refused before it can exhaust the stack
MAX_NAME_CHARS = 200  # a slider, descriptor or coefficient name
MAX_COEFFICIENTS = 4096  # coefficients of a model, or entries of a params file

# Slider sets (sliders.json), checked before anything is allocated.
MAX_SLIDERS = 64
MAX_HIDDEN_LAYERS = 8
MAX_HIDDEN_WIDTH = 4096
MAX_MAPPER_PARAMETERS = 20_000_000  # 80 MB of float32 weights
MAX_REFINE_ITERATIONS = 20
MAX_ABS_VALUE = 1e6  # a slider range end, default or standardisation statistic

# Slider sets fetched from the Hugging Face Hub: the files downloaded (JSON, weights, card).
MAX_HUB_SET_BYTES = 200_000_000

# Model files (linear:PATH.npz and licensed model files): decompressed size of all arrays.
MAX_MODEL_FILE_BYTES = 1_500_000_000

# Text typed by users.
MAX_TEXT_CHARS = 2_000  # a prompt or a list of new words, before any parsing
MAX_NEW_WORDS = 8
MAX_WORD_CHARS = 40

# Photos.
MAX_UPLOAD = "20mb"  # per file, refused by the server before it is stored
MAX_UPLOAD_REQUEST_BYTES = 64_000_000  # all files of one upload request
MAX_UPLOAD_BYTES_PER_HOUR = 256_000_000  # all uploads of one network address in an hour
MAX_PHOTO_PIXELS = 50_000_000  # checked from the header, before decoding
MAX_PHOTO_DECODE_BYTES = 80_000_000  # pixels x bytes per pixel (e.g. 24 MP RGB), before decoding
MAX_PHOTO_SIDE = 1024  # photos are kept at most this large (CLIP sees 224 px)
MAX_PHOTOS = 8
MAX_CAMERA_VIEWS = 16  # camera views a set says it was trained on, in its files
MAX_EMBED_DIM = 2048  # an encoder's embedding width (CLIP's largest are 1280), in a set's files
MAX_BATCH_ROWS = 10_000  # rows of `semantify shape --batch`: one mesh each
MAX_BATCH_BYTES = 16_000_000  # its CSV file, checked before reading (10,000 rows of 64 values)
MAX_WORD_LIST_BYTES = 1_000_000  # a word-list file, one descriptor per line

# Work per request and per session (the app).
SHAPE_SECONDS = 2.0  # metric refinement stops here and keeps its best shape so far
VIEW_EVENTS_PER_SECOND = 30  # a session's slider and camera events beyond this are refused
VIEW_EVENTS_PENDING = 2  # a session's view events waiting or running at once; more are refused
VIEW_EVENTS_PER_ADDRESS = 8  # the same, for all sessions of one network address
VIEW_EVENTS_TOTAL = 128  # the same, for the whole server
CHOICES_PER_SECOND = 5  # a session's choices (picker, pose, look, heatmap, reset, free, random)
CHOICES_PENDING = 2  # their own places, so a choice made mid-drag is never refused by the drag
CHOICES_PER_ADDRESS = 8
CHOICES_TOTAL = 64
HEAVY_JOBS_PER_SESSION = 1  # photos, text, exports, turntables, animations, Hub loads, training
HEAVY_JOBS_PER_ADDRESS = 2
HEAVY_JOBS_TOTAL = 16
# A refused heavy job is answered this late: attackers retrying at once made 1,338-1,737
# refusals a run, held 373-399 (bench/hostile.py --addresses 40; docs/SECURITY.md, 7th pass)
HEAVY_REFUSAL_HELD_SECONDS = 2.0
HEAVY_JOB_EXPIRY_SECONDS = 300.0  # a place not given back (the visitor left) is freed then
MAX_QUEUE = 256  # requests in the server's queue: above the sum of the caps of a few addresses
NEW_SESSIONS_BURST = 60  # sessions one address may open at once (a page load is one), public mode
NEW_SESSIONS_PER_MINUTE = 30.0  # and after that (semantify/app/new_sessions.py)
MAX_SESSIONS = 2000  # sessions whose state Gradio keeps, public mode (~0.4 MB each)
MAX_EVENT_BODY_BYTES = 4_000_000  # an event's or frame request's JSON body (files go by /upload)
SESSIONS_REMEMBERED = 50_000  # session names NewSessions knows as open (least recent forgotten)
ADDRESSES_REMEMBERED = 10_000  # addresses whose budgets (new sessions, uploads) are kept
PAGE_CACHE_ENTRY_BYTES = 8 << 20  # one answer the page cache keeps (semantify/app/page_cache.py)
PAGE_CACHE_BYTES = 64 << 20  # all of them; the least recently used go first
PUBLIC_JOBS_PER_HOUR = 2  # new slider sets (words, builds) one address may train, public mode
MAX_QUEUED_BUILDS = 4  # builds queued or running on one server (an identical one joins)
PUBLIC_JOB_WINDOW = 3600.0  # seconds over which PUBLIC_JOBS_PER_HOUR counts
MAX_APP_BUILD_SAMPLES = 100_000  # samples a build asked for in the app's Build tab
MAX_OWNERS = 64  # visitors sharing one built set (beyond that it is listed for everyone)
VISITORS_REMEMBERED = 50_000  # page loads whose visitor key is known (least recent forgotten)

# The viewer's frames (semantify/app/viewport/service.py).
MAX_VIEWS = 1024  # views kept; the least recently used is forgotten beyond this
VIEWS_PER_OWNER = 4  # views of one session; beyond this its own oldest goes
VIEWS_PER_PARTY = 64  # views of one network address; beyond this its own oldest goes
FRAMES_PER_SECOND = 60.0  # per view
BURST = 12  # frames a view may ask for at once before its rate applies
PARTY_FRAMES_PER_SECOND = 24.0  # per network address, all its views together (a dragging page: 24)
PARTY_WAITING = 2  # frames of one address waiting for the renderer at once; more are dropped
QUIET_PARTY_SECONDS = 5.0  # an address that drew nothing for this long goes first in line
# With this many addresses waiting for the renderer, a busy address's full frames are drawn as
# drafts (its page asks again later): 40 flooding addresses, a visitor's frames p95 0.80-1.01 s
# over ten runs against 1.05-1.16 s with full frames (bench/hostile.py --addresses 40)
CROWDED_PARTIES = 8
CROWDED_RETRY_MS = 1000  # when a page asks again for the full frame it got as a draft
# Slider-drag shapes built at once, beside the renderer (one: two at once on two cores slowed a
# 20-session drag, p95 511-575 ms against 354-491, bench/viewport.py --only slider-sessions)
SHAPE_WORKERS = 1
# Public mode: the niceness of the app's work threads (semantify/app/priority.py): frames,
# shapes and events run below page loads (flooded by 40 sessions, a new visitor's page load
# 2.1-3.7 s against 3.6-4.8 s unlowered, bench/hostile.py)
WORK_NICENESS = 10
MAX_FRAME_SLIDERS = 256  # slider values a frame request may carry
# Sides of full frames, in pixels: a page gets the first at least as large as its viewer
# (CSS pixels x devicePixelRatio), so frames are sharp on large and 2x screens and the
# renderer keeps a few framebuffers. Drafts (while moving) are half, at most MAX_DRAFT.
FRAME_SIZES = (512, 768, 1024)
MAX_DRAFT = 384

# The app's files: per-session folders under the cache root.
SESSION_MAX_AGE_SECONDS = 3600
SESSIONS_MAX_BYTES = 500_000_000
