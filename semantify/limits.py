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
MAX_BATCH_ROWS = 10_000  # rows of `semantify shape --batch`: one mesh each
MAX_BATCH_BYTES = 16_000_000  # its CSV file, checked before reading (10,000 rows of 64 values)

# Work per request and per session (the app).
SHAPE_SECONDS = 2.0  # metric refinement stops here and keeps its best shape so far
VIEW_EVENTS_PER_SECOND = 30  # a session's slider and camera events beyond this are refused
VIEW_EVENTS_PENDING = 2  # a session's view events waiting or running at once; more are refused
VIEW_EVENTS_PER_ADDRESS = 8  # the same, for all sessions of one network address
VIEW_EVENTS_TOTAL = 128  # the same, for the whole server
HEAVY_JOBS_PER_SESSION = 1  # photos, text, exports, turntables, animations, Hub loads, training
HEAVY_JOBS_PER_ADDRESS = 2
HEAVY_JOBS_TOTAL = 16
HEAVY_JOB_EXPIRY_SECONDS = 300.0  # a place not given back (the visitor left) is freed then
MAX_QUEUE = 256  # requests in the server's queue: above the sum of the caps of a few addresses
PUBLIC_JOBS_PER_HOUR = 2  # new slider sets (words, builds) one address may train, public mode
MAX_QUEUED_BUILDS = 4  # builds queued or running on one server (an identical one joins)
MAX_APP_BUILD_SAMPLES = 100_000  # samples a build asked for in the app's Build tab

# The app's files: per-session folders under the cache root.
SESSION_MAX_AGE_SECONDS = 3600
SESSIONS_MAX_BYTES = 500_000_000
